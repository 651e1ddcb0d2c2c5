"""Reduced-resolution decoding (JPEG 2000 levels, JPEG DCT scaling): same masks as a full decode, on real films."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from lungseg_monai.data.reduced_decode import decode_reduced_dicom, reduction_factor
from lungseg_monai.inference.bundle_workflow import inference_workflow, resolve_bundle
from lungseg_monai.inference.input_scan import scan_input_folder

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.filterwarnings("ignore")


def test_reduction_factor_keeps_the_shorter_side_at_least_min_side():
    assert reduction_factor(2128, 2000, 512) == 2  # 1000 px; 1/4 would give 500
    assert reduction_factor(3000, 2542, 512) == 4
    assert reduction_factor(440, 440, 512) == 1 and reduction_factor(4000, 4000, 0) == 1
    assert reduction_factor(8000, 8000, 100) == 8  # JPEG DCT scaling stops at 1/8


def test_a_reduced_jpeg2000_decode_has_the_stored_bit_depth(dicom_dir):
    ds = pydicom.dcmread(dicom_dir / "pylibjpeg-data" / "966_fixed.dcm")  # 12 bits stored in 16
    full, reduced = ds.pixel_array.astype(np.float64), decode_reduced_dicom(ds, 2)
    assert reduced.shape == ((full.shape[0] + 1) // 2, (full.shape[1] + 1) // 2)
    # Wavelet level 1 is close to the 2x2 mean of the full image, in the same units (Pillow scales to 16 bits).
    block = full[: full.shape[0] // 2 * 2, : full.shape[1] // 2 * 2]
    means = block.reshape(block.shape[0] // 2, 2, block.shape[1] // 2, 2).mean(axis=(1, 3))
    error = np.abs(reduced[: means.shape[0], : means.shape[1]] - means)
    assert reduced.max() <= 4095 and np.median(error) < 0.01 * means.max()
    broken = pydicom.dcmread(dicom_dir / "pylibjpeg-data" / "966_BROKEN_truncated_j2k.dcm")
    assert decode_reduced_dicom(broken, 2) is None  # left to the full decode, which reports the damage


def _masks(folder: Path, output: Path, decode_min_side: int) -> dict[str, np.ndarray]:
    workflow = inference_workflow(
        resolve_bundle("unet"), input_dir=folder, output_dir=output, decode_min_side=decode_min_side, num_workers=0
    )
    workflow.initialize()
    workflow.run()
    workflow.finalize()
    return {
        str(path.relative_to(output)): np.asarray(Image.open(path)) > 0 for path in sorted(output.rglob("*.mask.png"))
    }


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return float(2 * (a & b).sum() / (a.sum() + b.sum()))


def _validation_folder(cxr_dir: Path, folder: Path) -> Path:
    folder.mkdir()
    manifest = json.loads((REPO / "data_manifests" / "cxr-lung-lr.json").read_text())
    for case in manifest["validation"]:
        os.symlink(cxr_dir / case["image"], folder / Path(case["image"]).name)
    return folder


@pytest.mark.parametrize("data", ["shared_dicoms", "validation_split"])
def test_reduced_decode_gives_the_masks_of_a_full_decode(data, dicom_dir, cxr_dir, tmp_path):
    folder = dicom_dir if data == "shared_dicoms" else _validation_folder(cxr_dir, tmp_path / "validation")
    full, reduced = _masks(folder, tmp_path / "full", 0), _masks(folder, tmp_path / "reduced", 768)
    assert sorted(full) == sorted(reduced) and len(full) == (11 if data == "shared_dicoms" else 14)
    dice = {name: _dice(full[name], reduced[name]) for name in full}
    assert all(full[name].shape == reduced[name].shape for name in full)  # masks stay on the film's grid
    assert min(dice.values()) >= 0.995, dice
    # Some films were decoded smaller (JPEG 2000 and JPEG): their masks are close, not identical.
    assert sum(value < 1.0 for value in dice.values()) >= 3
    records = [
        json.loads(p.read_text())
        for p in (tmp_path / "reduced").rglob("*.json")
        if p.name not in ("run_summary.json", "mask_labels.json")
    ]
    assert {r["provenance"]["options"]["decode_min_side"] for r in records} == {768}
    if data == "shared_dicoms":
        sources = {str(p.relative_to(folder)) for p in scan_input_folder(folder).images}
        assert {name.removesuffix(".mask.png") for name in full} <= sources
