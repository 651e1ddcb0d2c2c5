"""The shipped weights of both bundles on real test-split cases, at the original resolution."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest
from PIL import Image

from lungseg_monai.inference.cli import main as lungseg_main


@pytest.mark.parametrize("bundle", ["unet", "pix2pix"])
def test_shipped_model_dice_on_real_test_cases(bundle, cxr_dir, tmp_path, make_workflow):
    override = {"validate#dataset#data": "$@validate#datalist[:5]", "validate#dataloader#num_workers": 0}
    workflow = make_workflow(
        bundle, "evaluate.json", "infer", dataset_dir=str(cxr_dir), output_dir=str(tmp_path), **override
    )
    workflow.run()
    with open(tmp_path / "per_case.csv", newline="") as handle:
        dice = [float(row["dice"]) for row in csv.DictReader(handle)]
    assert len(dice) == 5
    assert np.mean(dice) >= 0.9, dice
    assert min(dice) >= 0.85, dice


def test_pix2pix_bundle_segments_a_dicom_folder(dicom_dir, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(dicom_dir / "pylibjpeg-data" / "966_fixed.dcm", inputs / "966_fixed.dcm")
    code = lungseg_main(["--bundle", "pix2pix", "--input-dir", str(inputs), "--output-dir", str(tmp_path / "out")])
    assert code == 0
    mask = np.asarray(Image.open(tmp_path / "out" / "966_fixed.dcm.mask.png")) > 0
    assert mask.shape == (2128, 2000)
    assert 0.25 < mask.mean() < 0.6
    assert mask[:, :1000].sum() > 0.3 * mask.sum() and mask[:, 1000:].sum() > 0.3 * mask.sum()
