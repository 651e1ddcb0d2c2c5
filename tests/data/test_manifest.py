"""Building datalists from the published layouts, with a patient-grouped split and refused bad inputs."""

from __future__ import annotations

import json
import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest
from heavy_imports import main_in_fresh_process
from PIL import Image

from lungseg_monai.data.layouts import detect_layout, find_cases
from lungseg_monai.data.manifest import build_manifest, lung_convention_of, main, split_by_patient

REPO = Path(__file__).resolve().parents[2]


def test_cxr_manifest_splits_by_patient(cxr_dir):
    datalist, report = build_manifest(cxr_dir, seed=0)
    splits = {name: datalist[name] for name in ("training", "validation", "test")}
    assert sum(len(v) for v in splits.values()) == 84
    assert report.refused == []
    patients = {name: {e["patient_id"] for e in items} for name, items in splits.items()}
    assert patients["training"].isdisjoint(patients["validation"])
    assert patients["training"].isdisjoint(patients["test"])
    assert patients["validation"].isdisjoint(patients["test"])
    assert len(set().union(*patients.values())) == 63
    assert 0.6 < len(splits["training"]) / 84 < 0.75
    cases = [e for items in splits.values() for e in items]
    assert all(e["heart_mask"] == "ManualMask/cardiomediastinumMask/" + Path(e["right_mask"]).name for e in cases)
    assert sum("second_reader" in e for e in cases) == 52  # 53 drawn, one of them is in incomplete/
    # The lungs overlap the cardiomediastinum (the lung behind the heart): anatomical lungs, measured.
    assert datalist["lung_convention"] == "anatomical"
    assert datalist["lung_convention_source"].startswith("measured: median 18.6%")


def test_committed_manifest_is_what_the_command_builds(cxr_dir, tmp_path):
    main([str(cxr_dir), str(tmp_path / "m.json"), "--seed", "0"])
    built = json.loads((tmp_path / "m.json").read_text())
    committed = json.loads((REPO / "data_manifests" / "cxr-lung-lr.json").read_text())
    for split in ("training", "validation", "test"):
        assert built[split] == committed[split]


def test_split_is_seeded():
    patients = {str(i): [{"image": f"{i}.png"}] for i in range(40)}
    first = split_by_patient(patients, (0.7, 0.15, 0.15), seed=3)
    assert first == split_by_patient(patients, (0.7, 0.15, 0.15), seed=3)
    assert first != split_by_patient(patients, (0.7, 0.15, 0.15), seed=4)


def _png(path: Path, size=(64, 48), fill=None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.zeros((size[1], size[0]), dtype=np.uint8)
    if fill is not None:
        pixels[10:30, fill : fill + 20] = 255
    else:
        pixels[:] = np.random.default_rng(zlib.crc32(str(path).encode())).integers(0, 255, pixels.shape)
    Image.fromarray(pixels).save(path)


@pytest.fixture()
def montgomery_with_problems(tmp_path: Path) -> Path:
    root = tmp_path / "mc"
    for stem in ("good1", "good2"):
        _png(root / "CXR_png" / f"{stem}.png")
        _png(root / "ManualMask" / "leftMask" / f"{stem}.png", fill=35)
        _png(root / "ManualMask" / "rightMask" / f"{stem}.png", fill=5)
    _png(root / "CXR_png" / "nomask.png")
    shutil.copy(root / "CXR_png" / "good1.png", root / "CXR_png" / "zz_copy_of_good1.png")
    for side in ("leftMask", "rightMask"):
        shutil.copy(root / "ManualMask" / side / "good1.png", root / "ManualMask" / side / "zz_copy_of_good1.png")
    _png(root / "CXR_png" / "wrongsize.png")
    _png(root / "ManualMask" / "leftMask" / "wrongsize.png", size=(32, 32), fill=5)
    _png(root / "ManualMask" / "rightMask" / "wrongsize.png", size=(32, 32), fill=5)
    (root / "CXR_png" / "corrupt.png").write_bytes(b"not a png")
    for side in ("leftMask", "rightMask"):
        _png(root / "ManualMask" / side / "corrupt.png", fill=5)
    return root


def test_bad_inputs_are_refused_with_reasons(montgomery_with_problems):
    datalist, report = build_manifest(montgomery_with_problems, fractions=(1.0, 0.0, 0.0))
    kept = sorted(e["image"] for e in datalist["training"])
    assert kept == ["CXR_png/good1.png", "CXR_png/good2.png"]
    reasons = {r["image"]: r["reason"] for r in report.refused}
    assert reasons["CXR_png/nomask.png"] == "no mask for right_mask, left_mask"
    assert reasons["CXR_png/zz_copy_of_good1.png"] == "duplicate of CXR_png/good1.png"
    assert "is 32x32, image is 64x48" in reasons["CXR_png/wrongsize.png"]
    assert "unreadable" in reasons["CXR_png/corrupt.png"]
    assert datalist["refused"] == report.refused


def test_incomplete_annotations_are_refused(cxr_dir, tmp_path):
    root = tmp_path / "incomplete"
    shutil.copytree(cxr_dir / "incomplete", root)
    datalist, report = build_manifest(root, fractions=(1.0, 0.0, 0.0))
    assert datalist["training"] == []
    assert all(r["reason"].startswith("no mask for") for r in report.refused)
    assert len(report.refused) == 2


def test_shenzhen_layout(tmp_path):
    root = tmp_path / "sz"
    for stem in ("CHNCXR_0001_0", "CHNCXR_0002_1"):
        _png(root / "CXR_png" / f"{stem}.png")
        _png(root / "mask" / f"{stem}_mask.png", fill=10)
    assert detect_layout(root) == "shenzhen"
    datalist, _ = build_manifest(root, fractions=(1.0, 0.0, 0.0))
    assert {e["label"] for e in datalist["training"]} == {"mask/CHNCXR_0001_0_mask.png", "mask/CHNCXR_0002_1_mask.png"}
    assert datalist["lung_convention"] == "visible" and datalist["lung_convention_source"].startswith("assumed")


def test_lung_convention_from_the_overlap_of_lungs_and_heart():
    assert lung_convention_of([0.18, 0.2, 0.15])[0] == "anatomical"
    assert lung_convention_of([0.0, 0.01, 0.02])[0] == "visible"  # SCR: lung fields stop at the heart border
    assert lung_convention_of([]) == (
        "visible",
        "assumed: no cardiomediastinum masks (the public screening sets mark visible lung fields)",
    )


def test_plain_layout(tmp_path):
    root = tmp_path / "plain"
    _png(root / "images" / "a.png")
    _png(root / "masks" / "a.png", fill=10)
    assert detect_layout(root) == "plain"
    cases = find_cases(root)
    assert cases[0].masks == {"label": "masks/a.png"}


def test_the_manifest_command_loads_neither_torch_nor_monai(tmp_path):
    # A dataset scan needs numpy, Pillow and pydicom only, so lungseg-manifest starts in a fraction of a second.
    sample, output = REPO / "sample_data" / "cxr-lung-lr-sample", tmp_path / "sample.json"
    arguments = [str(sample), str(output), "--seed", "0"]
    assert main_in_fresh_process("lungseg_monai.data.manifest", arguments, timeout=120) == (0, [])
    assert len(json.loads(output.read_text())["training"]) > 0
