"""Loading with RadiographReader and MergeLungMasksd on real files and on exact synthetic masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from shared_data import load_radiographs

from lungseg_monai.data.errors import MaskError
from lungseg_monai.transforms import MergeLungMasks, MergeLungMasksd, ResizeToMatchd

STEM = "ARDSSevere"


def _mask(rows: int, cols: int, box: tuple[slice, slice], value: float = 255.0) -> torch.Tensor:
    mask = torch.zeros(1, rows, cols)
    mask[(slice(None), *box)] = value
    return mask


def test_merge_binary_and_multiclass_exact():
    right = _mask(8, 8, (slice(1, 5), slice(0, 3)))
    left = _mask(8, 8, (slice(1, 5), slice(4, 8)))
    binary = MergeLungMasks()(right, left)
    assert binary.sum() == 4 * 3 + 4 * 4 and set(binary.unique().tolist()) == {0.0, 1.0}
    multi = MergeLungMasks(multiclass=True)(right, left)
    assert (multi == 1).sum() == 12 and (multi == 2).sum() == 16


def test_merge_accepts_0_1_masks():
    right = _mask(4, 4, (slice(0, 2), slice(0, 2)), value=1.0)
    left = _mask(4, 4, (slice(2, 4), slice(2, 4)), value=1.0)
    assert MergeLungMasks()(right, left).sum() == 8


def test_load_and_merge_real_case(cxr_dir):
    item = {
        "image": str(cxr_dir / "images" / f"{STEM}.png"),
        "right_mask": str(cxr_dir / "ManualMask" / "rightMask" / f"{STEM}.png"),
        "left_mask": str(cxr_dir / "ManualMask" / "leftMask" / f"{STEM}.png"),
    }
    data = MergeLungMasksd()(load_radiographs(keys=["image", "right_mask", "left_mask"])(item))
    image, label = data["image"], data["label"]
    assert isinstance(image, MetaTensor) and image.shape == (1, 631, 790)
    assert label.shape == image.shape and "right_mask" not in data
    assert set(label.unique().tolist()) == {0.0, 1.0}
    # the patient's left lung is on the image's right: the left mask's centroid is right of centre
    left = load_radiographs(keys="m")({"m": item["left_mask"]})["m"][0] > 0
    assert np.nonzero(left.numpy())[1].mean() > 790 / 2
    assert 0.15 < float(label.mean()) < 0.6


def test_mis_sized_mask_error_names_both_files(cxr_dir, tmp_path):
    from PIL import Image

    small = tmp_path / "small.png"
    Image.new("L", (100, 80), 255).save(small)
    item = {
        "image": str(cxr_dir / "images" / f"{STEM}.png"),
        "right_mask": str(small),
        "left_mask": str(cxr_dir / "ManualMask" / "leftMask" / f"{STEM}.png"),
    }
    loaded = load_radiographs(keys=["image", "right_mask", "left_mask"])(item)
    with pytest.raises(MaskError, match=r"small.png is 100x80, image .*ARDSSevere.png is 790x631"):
        MergeLungMasksd()(loaded)


def test_incomplete_annotation_is_a_clear_error(cxr_dir, tmp_path):
    from PIL import Image

    stem = "covid-19-pneumonia-12"
    right = cxr_dir / "incomplete" / "ManualMask" / "rightMask" / f"{stem}.png"
    empty = tmp_path / f"{stem}.png"
    Image.new("L", Image.open(right).size, 0).save(empty)
    loaded = load_radiographs(keys=["right_mask", "left_mask"])({"right_mask": str(right), "left_mask": str(empty)})
    with pytest.raises(MaskError, match=f"left lung mask .*{stem}.png is empty"):
        MergeLungMasksd(reference_key=None)(loaded)


def test_only_one_mask_key_is_an_error(cxr_dir):
    loaded = load_radiographs(keys="right_mask")({"right_mask": str(cxr_dir / "ManualMask/rightMask/ARDSSevere.png")})
    with pytest.raises(MaskError, match="only \\['right_mask'\\] present"):
        MergeLungMasksd(reference_key=None)(loaded)


def test_single_label_is_binarized():
    label = MetaTensor(_mask(4, 4, (slice(0, 2), slice(0, 4))))
    out = MergeLungMasksd()({"label": label})["label"]
    assert out.max() == 1.0 and out.sum() == 8


def test_resize_to_match_maps_a_prediction_back_smoothly():
    pred = torch.zeros(1, 4, 4)
    pred[:, :, 2:] = 1.0
    reference = MetaTensor(torch.zeros(1, 16, 12))
    out = ResizeToMatchd(keys="pred", key_dst="original")({"pred": pred, "original": reference})["pred"]
    assert tuple(out.shape) == (1, 16, 12)
    row = np.asarray(out[0, 5])
    # bilinear: a ramp across the edge, not the repeated pixels an "area"/nearest upsampling would give
    assert row[0] == 0 and row[-1] == 1 and 0 < row[5] < 1 and np.all(np.diff(row) >= 0)
    same = ResizeToMatchd(keys="pred", key_dst="original")({"pred": reference, "original": reference})["pred"]
    assert same is reference


def test_resize_to_match_with_threshold_equals_resize_then_threshold_on_a_real_case(cxr_dir):
    """Thresholding one channel at a time gives the mask that thresholding the resized channels together gives."""
    name = sorted(path.name for path in (cxr_dir / "ManualMask" / "cardiomediastinumMask").iterdir())[0]
    folders = ["rightMask", "leftMask", "cardiomediastinumMask"]
    paths = {folder: str(cxr_dir / "ManualMask" / folder / name) for folder in folders}
    loaded = load_radiographs(list(paths))(paths)
    truth = torch.cat([torch.as_tensor(np.asarray(loaded[folder]) > 0, dtype=torch.float32) for folder in folders])
    # Soft network-size "probabilities" of the three drawn structures, as a sigmoid output would look.
    small = torch.nn.functional.interpolate(truth[None], size=(256, 256), mode="area")[0]
    original = MetaTensor(torch.zeros(1, *truth.shape[1:]))
    spacing = torch.diag(torch.tensor([0.7, 0.6, 1.0], dtype=torch.float64))  # a film's mm grid, at 256 px
    item = {"pred": MetaTensor(small, affine=spacing, meta={"filename_or_obj": name}), "original": original}
    probabilities = ResizeToMatchd(keys="pred", key_dst="original")(item)["pred"]  # MONAI's Resize
    mask = ResizeToMatchd(keys="pred", key_dst="original", threshold=0.5)(item)["pred"]
    assert mask.dtype == torch.bool and tuple(mask.shape) == tuple(truth.shape)
    np.testing.assert_array_equal(np.asarray(mask), np.asarray(probabilities) >= 0.5)
    # the same metadata as MONAI's Resize leaves: the film's grid, the file's name
    assert torch.equal(mask.affine, probabilities.affine) and not torch.equal(mask.affine, spacing)
    assert mask.meta["filename_or_obj"] == name
    assert all(0.97 < _dice(np.asarray(mask[c]), np.asarray(truth[c]) > 0) for c in range(3))
    # Already on the film's grid: only the threshold.
    on_grid = ResizeToMatchd(keys="pred", key_dst="original", threshold=0.5)(
        {"pred": truth * 0.6, "original": original}
    )
    np.testing.assert_array_equal(np.asarray(on_grid["pred"]), np.asarray(truth) > 0)


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))
