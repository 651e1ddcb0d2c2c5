"""The 3-structure label (right lung, left lung, cardiomediastinum) on real cases, the lateral flip and the loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.losses import DiceLoss
from shared_data import load_radiographs

from lungseg_monai.data.errors import MaskError
from lungseg_monai.transforms import (
    UNKNOWN,
    KnownChannelsDiceCELoss,
    RandLateralFlipd,
    StackStructureMasksd,
    fill_unknown_channels,
    known_channels,
    lung_masks,
)

STEM = "ARDSSevere"
MASKS = ["right_mask", "left_mask", "heart_mask"]


def _item(cxr_dir) -> dict:
    return {
        "image": str(cxr_dir / "images" / f"{STEM}.png"),
        "right_mask": str(cxr_dir / "ManualMask" / "rightMask" / f"{STEM}.png"),
        "left_mask": str(cxr_dir / "ManualMask" / "leftMask" / f"{STEM}.png"),
        "heart_mask": str(cxr_dir / "ManualMask" / "cardiomediastinumMask" / f"{STEM}.png"),
    }


def _centre_column(mask: torch.Tensor) -> float:
    return float(np.nonzero(mask.numpy())[1].mean())


def test_real_case_stacks_right_lung_left_lung_and_heart(cxr_dir):
    data = StackStructureMasksd(keys=MASKS)(load_radiographs(keys=["image", *MASKS])(_item(cxr_dir)))
    label = data["label"]
    assert label.shape == (3, 631, 790) and not set(MASKS) & set(data)
    assert set(label.unique().tolist()) == {0.0, 1.0}
    right, left, heart = (_centre_column(label[c] > 0) for c in range(3))
    assert right < 790 / 2 < left and right < heart < left  # PA display: the right lung on the image's left
    # Anatomical lungs: part of each lung lies behind the heart; the visible fields are the rest.
    structures = label.numpy() > 0
    anatomical, visible = lung_masks(structures, "anatomical"), lung_masks(structures, "visible")
    for full, field in zip(anatomical, visible, strict=True):
        assert not (field & ~full).any() and full.sum() > field.sum()
    with pytest.raises(ValueError, match="unknown lung convention"):
        lung_masks(structures, "sideways")


def test_missing_heart_is_unknown_and_a_merged_mask_is_split_by_side(cxr_dir):
    item = _item(cxr_dir)
    loaded = load_radiographs(keys=["image", *MASKS])(item)
    full = StackStructureMasksd(keys=MASKS)(dict(loaded))["label"]
    merged = {"image": loaded["image"], "label": torch.clamp(loaded["right_mask"] + loaded["left_mask"], max=255)}
    shenzhen_like = StackStructureMasksd(keys=MASKS)(merged)["label"]
    assert torch.equal(shenzhen_like[:2], full[:2])  # the two lungs do not touch: split exactly by side
    assert bool((shenzhen_like[2] == UNKNOWN).all())
    assert known_channels(shenzhen_like[None]).tolist() == [[True, True, False]]


def test_an_empty_mask_is_an_incomplete_annotation_naming_the_file(cxr_dir, tmp_path):
    from PIL import Image

    empty = tmp_path / "empty.png"
    Image.new("L", (790, 631), 0).save(empty)
    item = {**_item(cxr_dir), "heart_mask": str(empty)}
    with pytest.raises(MaskError, match="cardiomediastinum mask .*empty.png is empty"):
        StackStructureMasksd(keys=MASKS)(load_radiographs(keys=["image", *MASKS])(item))


def test_lateral_flip_mirrors_and_swaps_the_lungs(cxr_dir):
    data = StackStructureMasksd(keys=MASKS)(load_radiographs(keys=["image", *MASKS])(_item(cxr_dir)))
    flipped = RandLateralFlipd(keys=["image", "label"], prob=1.0)(data)
    label, mirrored = data["label"], flipped["label"]
    assert torch.equal(mirrored[0], torch.flip(label[1], dims=(-1,)))  # the new right lung: the mirrored left one
    assert torch.equal(mirrored[1], torch.flip(label[0], dims=(-1,)))
    assert torch.equal(mirrored[2], torch.flip(label[2], dims=(-1,)))
    assert torch.equal(flipped["image"], torch.flip(data["image"], dims=(-1,)))
    assert _centre_column(mirrored[0] > 0) < 790 / 2 < _centre_column(mirrored[1] > 0)


def test_loss_over_annotated_channels_matches_dice_plus_bce():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, 32, 32, generator=generator)
    label = (torch.rand(2, 3, 32, 32, generator=generator) > 0.5).float()
    expected = DiceLoss(sigmoid=True, squared_pred=True)(
        logits, label
    ) + torch.nn.functional.binary_cross_entropy_with_logits(logits, label)
    assert float(KnownChannelsDiceCELoss()(logits, label)) == pytest.approx(float(expected), rel=1e-5)
    partly = label.clone()
    partly[1, 2] = UNKNOWN  # the second case has no heart mask
    per_pair = DiceLoss(sigmoid=True, squared_pred=True, reduction="none")(logits, label).flatten(1)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, label, reduction="none").flatten(2).mean(2)
    known = torch.tensor([[1, 1, 1], [1, 1, 0]], dtype=torch.bool)
    assert float(KnownChannelsDiceCELoss()(logits, partly)) == pytest.approx(
        float((per_pair + bce)[known].mean()), rel=1e-5
    )
    # Whatever the logits of the unknown channel, the loss does not move.
    other = logits.clone()
    other[1, 2] = 10.0
    assert float(KnownChannelsDiceCELoss()(other, partly)) == pytest.approx(
        float(KnownChannelsDiceCELoss()(logits, partly))
    )


def test_unknown_channels_are_filled_from_the_stand_in():
    label = torch.zeros(1, 3, 4, 4)
    label[0, 2] = UNKNOWN
    stand_in = torch.full((1, 3, 4, 4), 0.7)
    filled = fill_unknown_channels(label, stand_in)
    assert torch.equal(filled[0, :2], label[0, :2]) and bool((filled[0, 2] == 0.7).all())
