"""Painted opacities on a real film: deterministic, lungs only, graded by severity, the masks left as drawn."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from shared_data import REPO, load_radiographs

from lungseg_monai.transforms import StackStructureMasksd
from lungseg_monai.transforms.opacity import (
    OPACITY_KINDS,
    SEVERITY_EXTENT,
    TRAINING_KINDS,
    PaintOpacityd,
    RandOpacityd,
)

MASKS = ["right_mask", "left_mask", "heart_mask"]


@pytest.fixture(scope="module")
def film(cxr_dir) -> dict:
    image = next((cxr_dir / "images").glob("7C69C012-7479-493F-8722-ABC29C60A2DD.*"))  # clear lungs
    names = {"image": image, "right_mask": "rightMask", "left_mask": "leftMask", "heart_mask": "cardiomediastinumMask"}
    item = {key: str(cxr_dir / "ManualMask" / folder / f"{image.stem}.png") for key, folder in names.items()
            if key != "image"}  # fmt: skip
    item["image"] = str(image)
    return StackStructureMasksd(keys=MASKS)(load_radiographs(keys=["image", *MASKS])(item))


def _lungs(film: dict) -> np.ndarray:
    label = np.asarray(film["label"])
    return (label[0] > 0) | (label[1] > 0)


@pytest.mark.parametrize("kind", OPACITY_KINDS)
def test_the_same_film_kind_and_severity_give_the_same_pixels_and_the_masks_stay(film, kind):
    first, second = (
        PaintOpacityd("image", kind=kind, severity=3)(film),
        PaintOpacityd("image", kind=kind, severity=3)(film),
    )
    other_seed = PaintOpacityd("image", kind=kind, severity=3, seed=1)(film)
    assert torch.equal(first["image"], second["image"])
    assert first["label"] is film["label"]
    assert first["image"].meta["filename_or_obj"] == film["image"].meta["filename_or_obj"]
    if kind in ("consolidation", "diffuse"):  # patchy kinds: another seed, other patches
        assert not torch.equal(first["image"], other_seed["image"])


@pytest.mark.parametrize("kind", OPACITY_KINDS)
def test_opacities_brighten_the_lungs_more_with_each_severity(film, kind):
    lungs, original = _lungs(film), np.asarray(film["image"][0])
    inside, outside = [], []
    for severity in range(5):
        painted = np.asarray(PaintOpacityd("image", kind=kind, severity=severity)(film)["image"][0])
        assert (painted >= original - 1e-4).all()  # an opacity only adds density
        change = painted - original
        inside.append(float(change[lungs].mean()))
        outside.append(float(change[~lungs].mean()))
    assert inside[0] == 0.0 and all(a < b for a, b in zip(inside, inside[1:], strict=False)), inside
    assert inside[4] > 10 * max(outside[4], 1e-3), (inside, outside)  # painted into the lungs, not around them


def test_severity_3_effusion_covers_about_half_of_each_lung_base(film):
    lungs, original = _lungs(film), np.asarray(film["image"][0])
    painted = np.asarray(PaintOpacityd("image", kind="effusion", severity=3)(film)["image"][0])
    whitened = (painted - original) > 0.5 * (np.percentile(painted[lungs], 99) - np.median(original[lungs]))
    label = np.asarray(film["label"])
    for side in (0, 1):
        lung = label[side] > 0
        share = whitened[lung].mean()
        assert 0.25 < share < SEVERITY_EXTENT[4], (side, share)  # one side higher than the other
        rows = np.nonzero(lung)[0]
        assert whitened[lung & (np.arange(lung.shape[0])[:, None] < rows.min() + 0.2 * np.ptp(rows))].mean() < 0.01


def test_an_unknown_kind_or_severity_is_refused():
    with pytest.raises(ValueError, match="kind"):
        PaintOpacityd("image", kind="pneumothorax")
    with pytest.raises(ValueError, match="severity"):
        PaintOpacityd("image", kind="effusion", severity=5)


def _network_size(film: dict) -> dict:
    """The film and label as the training pipeline augments them: normalised, 256 px."""
    from monai.transforms import Compose, Resized, ScaleIntensityRangePercentilesd

    steps = Compose([ScaleIntensityRangePercentilesd("image", 0.5, 99.5, 0.0, 1.0, clip=True),
                     Resized(["image", "label"], (256, 256), mode="area")])  # fmt: skip
    return steps({"image": film["image"], "label": film["label"]})


def test_training_opacities_hold_out_effusion_and_severity_4_and_keep_the_label(film):
    small = _network_size(film)
    augment = RandOpacityd("image", prob=1.0)
    augment.set_random_state(0)
    drawn = set()
    for _ in range(30):
        out = augment(small)
        drawn.add((augment._kind, augment._severity))
        assert out["label"] is small["label"]
    assert {kind for kind, _ in drawn} == set(TRAINING_KINDS) and "effusion" not in TRAINING_KINDS
    assert {severity for _, severity in drawn} == {1, 2, 3}
    lungs = (np.asarray(small["label"])[:2] > 0.5).any(axis=0)
    change = np.asarray(out["image"][0]) - np.asarray(small["image"][0])
    assert change[lungs].mean() > 0.02 and change[lungs].mean() > 10 * abs(change[~lungs].mean())


def test_training_opacities_repeat_with_the_random_state_and_are_off_at_prob_0(film):
    small = _network_size(film)
    first, second = RandOpacityd("image", prob=1.0), RandOpacityd("image", prob=1.0)
    first.set_random_state(7)
    second.set_random_state(7)
    assert torch.equal(first(small)["image"], second(small)["image"])
    assert torch.equal(RandOpacityd("image", prob=0.0)(small)["image"], small["image"])


@pytest.mark.parametrize("bundle", ["unet", "pix2pix"])
def test_both_training_configs_paint_opacities_first_and_switched_off(bundle):
    config = json.loads((REPO / "bundles" / bundle / "configs" / "train.json").read_text())
    first = config["train"]["augmentation"][0]
    assert first["_target_"] == "lungseg_monai.transforms.RandOpacityd" and first["prob"] == "@opacity_prob"
    assert config["opacity_prob"] == 0.0  # the shipped weights were trained without it (see the bundle docs)
