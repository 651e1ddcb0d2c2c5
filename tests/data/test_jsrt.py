"""The JSRT layout: raw 2048 px .IMG films with SCR lung masks published at 1024 px."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from shared_data import load_radiographs

from lungseg_monai.data.errors import MaskError, RadiographReadError
from lungseg_monai.data.layouts import detect_layout, find_cases
from lungseg_monai.data.manifest import build_manifest
from lungseg_monai.data.radiograph_io import read_radiograph
from lungseg_monai.inference.input_scan import scan_input_folder
from lungseg_monai.transforms import MergeLungMasksd, StackStructureMasksd


def _raw_film(path: Path, offset: int) -> np.ndarray:
    """Write a JSRT-style film whose stored value depends on the column only (and 4095 - value on display)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = np.broadcast_to((np.arange(2048) * 2 + offset) % 4096, (2048, 2048)).astype(">u2")
    stored.tofile(path)
    return stored


def _scr_mask(path: Path, columns: slice) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.zeros((1024, 1024), dtype=np.uint8)
    pixels[200:700, columns] = 255
    Image.fromarray(pixels).save(path)


@pytest.fixture()
def jsrt_root(tmp_path: Path) -> Path:
    root = tmp_path / "JSRT"
    for offset, (stem, fold) in enumerate((("JPCLN001", "fold1"), ("JPCNN002", "fold2"), ("JPCNN003", None))):
        _raw_film(root / "All247images" / f"{stem}.IMG", offset)
        if fold:
            _scr_mask(root / "scratch" / fold / "masks" / "right lung" / f"{stem}.gif", slice(150, 450))
            _scr_mask(root / "scratch" / fold / "masks" / "left lung" / f"{stem}.gif", slice(580, 880))
    _scr_mask(root / "scratch" / "fold1" / "masks" / "heart" / "JPCLN001.gif", slice(440, 590))  # SCR heart
    return root


def test_raw_film_is_read_big_endian_in_display_polarity_and_orientation(jsrt_root):
    pixels, meta = read_radiograph(jsrt_root / "All247images" / "JPCLN001.IMG")
    assert pixels.shape == (2048, 2048) and pixels.dtype == np.float32
    # stored 2 * column: a transposed or little-endian read would give other values here
    assert pixels[0, 10] == 4095 - 20 and pixels[10, 0] == 4095 and pixels[7, 1000] == 4095 - 2000
    assert meta["spacing_mm"] == (0.175, 0.175) and meta["source_format"] == "jsrt"


def test_a_file_of_the_wrong_size_is_a_clear_error(tmp_path):
    bad = tmp_path / "JPCLN999.IMG"
    bad.write_bytes(b"\x00" * 1000)
    with pytest.raises(RadiographReadError, match="JPCLN999.IMG: 1000 bytes; a JSRT .IMG file is 8388608"):
        read_radiograph(bad)


def test_layout_finds_scr_masks_in_any_fold_and_refuses_films_without_them(jsrt_root):
    assert detect_layout(jsrt_root) == "jsrt"
    cases = {c.image: c for c in find_cases(jsrt_root)}
    assert cases["All247images/JPCNN002.IMG"].masks == {
        "right_mask": "scratch/fold2/masks/right lung/JPCNN002.gif",
        "left_mask": "scratch/fold2/masks/left lung/JPCNN002.gif",
    }
    datalist, report = build_manifest(jsrt_root, fractions=(1.0, 0.0, 0.0))
    assert sorted(e["image"] for e in datalist["training"]) == [
        "All247images/JPCLN001.IMG",
        "All247images/JPCNN002.IMG",
    ]
    assert report.refused == [{"image": "All247images/JPCNN003.IMG", "reason": "no mask for right_mask, left_mask"}]
    images = scan_input_folder(jsrt_root / "All247images").images
    assert len(images) == 3


def test_scr_heart_masks_become_the_cardiomediastinum_channel(jsrt_root):
    cases = {c.image: c for c in find_cases(jsrt_root)}
    assert cases["All247images/JPCLN001.IMG"].masks["heart_mask"] == "scratch/fold1/masks/heart/JPCLN001.gif"
    assert "heart_mask" not in cases["All247images/JPCNN002.IMG"].masks
    case = cases["All247images/JPCLN001.IMG"]
    keys = ["image", "right_mask", "left_mask", "heart_mask"]
    item = load_radiographs(keys=keys)({k: str(jsrt_root / v) for k, v in {"image": case.image, **case.masks}.items()})
    label = StackStructureMasksd()(item)["label"]
    assert tuple(label.shape) == (3, 2048, 2048)
    heart = torch.zeros(2048, 2048)
    heart[400:1400, 880:1180] = 1  # the 1024 px SCR mask at the film's size
    assert torch.equal(label[2].as_tensor(), heart)
    datalist, _ = build_manifest(jsrt_root, fractions=(1.0, 0.0, 0.0))
    # SCR marks visible lung fields: these lungs share 10 and 10 columns of 300 with the heart, under 5%.
    assert datalist["lung_convention"] == "visible" and datalist["lung_convention_source"].startswith("measured")


def test_half_size_scr_masks_are_merged_at_the_film_size(jsrt_root):
    case = find_cases(jsrt_root)[0]
    item = {"image": str(jsrt_root / case.image), **{k: str(jsrt_root / v) for k, v in case.masks.items()}}
    item = load_radiographs(keys=["image", "right_mask", "left_mask"])(item)
    label = MergeLungMasksd(keys=["right_mask", "left_mask"])(item)["label"]
    assert tuple(label.shape) == (1, 2048, 2048)
    expected = torch.zeros(2048, 2048)
    expected[400:1400, 300:900] = 1
    expected[400:1400, 1160:1760] = 1
    assert torch.equal(label[0].as_tensor(), expected)


def test_a_mask_not_an_exact_fraction_of_the_film_is_still_an_error(jsrt_root, tmp_path):
    mask = tmp_path / "right.png"
    Image.fromarray(np.full((1000, 1000), 255, dtype=np.uint8)).save(mask)
    item = {"image": str(jsrt_root / "All247images" / "JPCLN001.IMG"), "right_mask": str(mask), "left_mask": str(mask)}
    item = load_radiographs(keys=["image", "right_mask", "left_mask"])(item)
    with pytest.raises(MaskError, match=r"right.png is 1000x1000, image .*JPCLN001.IMG is 2048x2048"):
        MergeLungMasksd(keys=["right_mask", "left_mask"])(item)
