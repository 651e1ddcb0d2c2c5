"""Each bundle's ``quality_score`` is what the committed fit gives from the committed stress rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIT = REPO / "docs" / "experiments" / "quality_score_fit.py"
RESULTS = REPO / "docs" / "results"

#: The fit behind each bundle's score: the U-Net's on the training films' rows (0.8.3), Pix2Pix's on validation.
FIT_ARGUMENTS = {
    "unet": ["--fit-rows", str(RESULTS / "opacity_stress_unet_training.csv")],
    "pix2pix": [],
}


@pytest.mark.parametrize("bundle", sorted(FIT_ARGUMENTS))
def test_the_shipped_quality_score_is_the_committed_fit(bundle, tmp_path):
    command = [sys.executable, str(FIT), "--bundle", bundle, "--output", str(tmp_path / "fit")]
    command += [
        "--splits",
        "validation",
        "--stress-rows",
        str(RESULTS / f"opacity_stress_{bundle}.csv"),
        *FIT_ARGUMENTS[bundle],
    ]
    subprocess.run(command, check=True, capture_output=True, cwd=REPO)
    fitted = json.loads((tmp_path / "fit" / f"quality_score_{bundle}.json").read_text())
    shipped = json.loads((REPO / "bundles" / bundle / "configs" / "train.json").read_text())["quality_score"]
    assert fitted["quality_score"] == {key: shipped[key] for key in ("intercept", "weights", "check_below")}
    validation = fitted["splits"]["validation"]
    assert validation["films"] == 238 and validation["below_0.85_marked_ok"] == 0
    if bundle == "unet":  # chosen on validation rows it was not fitted on: issue #30's bar
        assert fitted["feature_set"] == "0.8.0 + worse lung soft Dice"
        assert validation["auroc_for_dice_below_0.90"] >= 0.90
