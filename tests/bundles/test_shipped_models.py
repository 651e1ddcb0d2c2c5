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
        rows = list(csv.DictReader(handle))
    dice = [float(row["dice"]) for row in rows]
    assert len(dice) == 5
    assert np.mean(dice) >= 0.9, dice
    assert min(dice) >= 0.85, dice
    # Channel layout against the radiologists' masks: channel 0 is the right lung, 1 the left, 2 the heart.
    for structure, bound in (("right_lung", 0.8), ("left_lung", 0.8), ("cardiomediastinum", 0.75)):
        values = [float(row[f"{structure}_dice"]) for row in rows]
        assert min(values) >= bound, (structure, values)
    # The cardiothoracic ratio of each real case against the one of its ground-truth masks. U-Net 0.6.0 on these 5:
    # 0.0005, 0.070, 0.044, 0.134 (the cystic pneumonia with a ring marker, heart found too narrow), 0.005; 0.5.0 had
    # 0.009, 0.056, 0.025, 0.087, 0.008. The bounds, a little above the shipped errors, guard against a regression;
    # the target is in the docs.
    # Films whose structures came from the second network get no CTR in their records (0.8.0 Pix2Pix: the cystic
    # pneumonia, 0.161, and the cavitating pneumonia): the bounds hold for the ratios a user is given.
    errors = [float(row["ctr_abs_error"]) for row in rows if float(row["second_opinion_used"]) == 0.0]
    assert len(errors) >= 3 and np.mean(errors) <= 0.06 and max(errors) <= 0.15, errors
    assert all(0.3 < float(row["ctr_truth"]) < 0.7 for row in rows)


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
