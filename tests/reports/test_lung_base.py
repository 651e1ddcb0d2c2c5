"""The lung base's shortfall on real drawn lungs: a base cut off, one reaching lower, and the edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from lungseg_monai.reports import base_shortfall, worse_base_shortfall
from lungseg_monai.transforms.lung_base import largest_component_rows
from lungseg_monai.transforms.mask_cleanup import bounding_box, largest_filled_component

FILM = "1312A392-67A3-4EBF-9319-810CF6DA5EF6.png"


@pytest.fixture(scope="module")
def drawn_lungs(cxr_dir) -> np.ndarray:
    """The radiologists' right and left lungs of one real film, ``(2, rows, columns)`` booleans."""
    masks = [np.asarray(Image.open(cxr_dir / "ManualMask" / side / FILM).convert("L")) > 127
             for side in ("rightMask", "leftMask")]  # fmt: skip
    return np.stack(masks)


def _rows(mask: np.ndarray) -> tuple[int, int]:
    box = bounding_box(mask)
    return box[0].start, box[0].stop


def test_a_lung_cut_at_a_basal_opacity_falls_short_by_the_share_cut(drawn_lungs):
    left = drawn_lungs[1]
    top, bottom = _rows(left)
    height = bottom - top
    cut = left.copy()
    cut[bottom - round(0.3 * height) :] = False  # what a network stopping at a basal opacity leaves
    assert base_shortfall(cut, left) == pytest.approx(0.3, abs=1.0 / height)
    assert base_shortfall(left, left) == 0.0
    # a speck below the lung is not its base: the largest piece is measured
    speck = cut.copy()
    speck[bottom - 2, (left[bottom - 2].nonzero()[0][0])] = True
    assert base_shortfall(speck, left) == pytest.approx(base_shortfall(cut, left))


def test_a_lung_reaching_below_the_drawn_base_falls_short_by_nothing(drawn_lungs):
    right = drawn_lungs[0]
    top, bottom = _rows(right)
    lower = np.zeros_like(right)
    lower[20:] = right[:-20]  # the same lung 20 rows lower
    assert base_shortfall(lower, right) == 0.0
    higher = np.zeros_like(right)
    higher[:-20] = right[20:]  # and 20 rows higher
    assert base_shortfall(higher, right) == pytest.approx(20 / (bottom - top))


def test_missing_lungs(drawn_lungs):
    empty = np.zeros_like(drawn_lungs[0])
    assert base_shortfall(empty, drawn_lungs[0]) == 1.0  # nothing predicted: the whole height missing
    assert math.isnan(base_shortfall(drawn_lungs[0], empty))  # nothing drawn: nothing to measure against


def test_the_worse_lung(drawn_lungs):
    pred = drawn_lungs.copy()
    top, bottom = _rows(pred[1])
    pred[1, bottom - round(0.2 * (bottom - top)) :] = False
    assert worse_base_shortfall(pred, drawn_lungs) == pytest.approx(base_shortfall(pred[1], drawn_lungs[1]))
    assert worse_base_shortfall(pred, drawn_lungs) > 0.19
    # a lung the reference lacks is left out, not counted as 0 or NaN
    reference = drawn_lungs.copy()
    reference[1] = False
    assert worse_base_shortfall(pred, reference) == 0.0
    assert math.isnan(worse_base_shortfall(pred, np.zeros_like(drawn_lungs)))


def test_the_rows_measured_are_those_of_the_piece_the_cleanup_keeps(drawn_lungs):
    """``largest_component_rows`` skips the hole filling of ``largest_filled_component``, never its choice of piece."""
    rng = np.random.default_rng(30)
    masks = [*drawn_lungs, drawn_lungs.any(axis=0)]  # one piece each, and two pieces side by side
    for _ in range(40):  # a real lung broken into pieces, with holes and specks: the largest piece is not the first
        broken = drawn_lungs[rng.integers(2)] & (rng.random(drawn_lungs.shape[1:]) < rng.uniform(0.3, 0.7))
        masks.append(broken | (rng.random(broken.shape) < 0.01))
    for mask in masks:
        kept = bounding_box(largest_filled_component(mask))[0]
        assert largest_component_rows(mask) == slice(kept.start, kept.stop)
    assert largest_component_rows(np.zeros_like(drawn_lungs[0])) is None
