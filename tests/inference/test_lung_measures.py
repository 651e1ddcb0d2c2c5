"""Areas in both lung conventions, the cardiothoracic ratio and the quality flags, on exact synthetic masks;
solidity also on real lung masks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage
from scipy.spatial import ConvexHull

from lungseg_monai.inference import measure_anatomy
from lungseg_monai.inference.lung_measures import solidity
from lungseg_monai.transforms import cardiothoracic_ratio, lung_masks
from lungseg_monai.transforms.lung_split import split_lungs


def _chest() -> np.ndarray:
    """Right lung (image left), left lung, and a heart between them overlapping the left lung's lower part."""
    structures = np.zeros((3, 400, 400), dtype=bool)
    structures[0, 50:350, 40:180] = True  # 300 x 140, image left = patient's right
    structures[1, 60:340, 230:360] = True  # 280 x 130
    structures[2, 200:330, 150:280] = True  # 130 x 130: overlaps right lung columns 150-179, left 230-279
    return structures


def test_split_orders_right_then_left():
    right, left = split_lungs(_chest()[0] | _chest()[1])
    assert right.sum() == 300 * 140 and left.sum() == 280 * 130


def test_visible_lungs_are_the_anatomical_lungs_outside_the_heart():
    structures = _chest()
    right, left = lung_masks(structures, "anatomical")
    right_v, left_v = lung_masks(structures, "visible")
    assert not (right_v & ~right).any() and not (left_v & ~left).any()
    assert right.sum() - right_v.sum() == 130 * 30 and left.sum() - left_v.sum() == 130 * 50


def test_cardiothoracic_ratio_of_exact_widths():
    structures = _chest()
    ctr = cardiothoracic_ratio(structures[0], structures[1], structures[2])
    # Heart columns 150-279 (130 px); widest lung row: columns 40-359 (320 px).
    assert (ctr.cardiac_width_px, ctr.thoracic_width_px) == (130, 320)
    assert ctr.ratio == round(130 / 320, 4)
    assert cardiothoracic_ratio(structures[0], structures[1], np.zeros((400, 400), bool)).ratio is None


def test_areas_in_both_conventions_pixels_and_cm2():
    measures = measure_anatomy(_chest(), spacing_mm=(0.5, 0.5), spacing_source="PixelSpacing", convention="visible")
    record = measures.as_dict()
    assert record["convention"] == "visible"
    assert record["lung_areas"]["anatomical"] == {
        "right_lung_px": 42000,
        "left_lung_px": 36400,
        "right_lung_cm2": 105.0,
        "left_lung_cm2": 91.0,
    }
    assert record["right_lung_px"] == 42000 - 3900 == record["lung_areas"]["visible"]["right_lung_px"]
    assert record["left_lung_px"] == 36400 - 6500
    assert record["cardiomediastinum_px"] == 16900 and record["cardiomediastinum_cm2"] == 42.25
    assert record["cardiothoracic_ratio"] == 0.4062
    assert record["flags"] == [] and record["quality"] == "ok"
    assert json.loads(json.dumps(record)) == record  # plain JSON numbers (a NumPy integer would not serialise)


def test_lung_flags():
    assert "no_lungs" in measure_anatomy(np.zeros((3, 400, 400), bool)).flags
    one = _chest()
    one[1] = False
    assert "one_lung" in measure_anatomy(one).flags
    small_left = _chest()
    small_left[1, :, 300:] = False
    assert "asymmetric_lungs" in measure_anatomy(small_left).flags
    border = _chest()
    border[0, :, :5] = True
    assert "lungs_touch_border" in measure_anatomy(border).flags
    assert "small_image" in measure_anatomy(_chest()[:, ::2, ::2]).flags
    assert "uncalibrated_spacing" in measure_anatomy(_chest(), (0.4, 0.4), "ImagerPixelSpacing").flags
    assert measure_anatomy(_chest()).right_lung_cm2 is None
    ragged = _chest()
    ragged[0, 100:350, 60:180] = False  # the right lung becomes an inverted L: half its convex hull
    assert "irregular_lung_shape" in measure_anatomy(ragged).flags
    assert "irregular_lung_shape" not in measure_anatomy(_chest()).flags
    tiny = np.zeros((3, 1200, 1200), dtype=bool)
    tiny[:, 400:800, 400:800] = _chest()  # lungs on 6% of the image: not a chest film's framing
    assert "implausible_area" in measure_anatomy(tiny).flags


def test_anatomy_flags():
    no_heart = _chest()
    no_heart[2] = False
    measured = measure_anatomy(no_heart)
    assert measured.flags == ["no_heart", "ctr_not_measurable"] and measured.cardiothoracic_ratio is None
    beside = _chest()
    beside[2] = False
    beside[2, 100:300, 0:60] = True  # the "heart" outside the lungs, at the image's edge
    assert {"heart_not_between_lungs", "ctr_not_measurable"} <= set(measure_anatomy(beside).flags)
    assert measure_anatomy(beside).cardiothoracic_ratio is None  # the widths are not a heart's
    huge = _chest()
    huge[2, 20:390, 20:390] = True
    flags = measure_anatomy(huge).flags
    assert "implausible_heart_size" in flags and "implausible_ctr" in flags
    swapped = _chest()[[1, 0, 2]]  # right and left lung exchanged: the right lung on the image's right
    assert "heart_not_between_lungs" in measure_anatomy(swapped).flags
    right_side = _chest()
    right_side[2] = False
    right_side[2, 200:330, 120:220] = True  # centred at 0.33 of the way from the right lung: not left of the midline
    assert "heart_not_between_lungs" in measure_anatomy(right_side).flags


def test_a_low_predicted_dice_flags_the_film_and_withholds_its_ctr():
    plain = measure_anatomy(_chest())
    assert plain.predicted_dice is None and plain.quality == "ok" and plain.cardiothoracic_ratio is not None
    passed = measure_anatomy(_chest(), score={"predicted_dice": 0.95, "check_below": 0.9})
    assert (
        passed.predicted_dice == 0.95
        and passed.flags == []
        and passed.cardiothoracic_ratio == plain.cardiothoracic_ratio
    )
    held = measure_anatomy(_chest(), score={"predicted_dice": 0.85, "check_below": 0.9})
    assert held.flags == ["low_predicted_dice", "ctr_not_measurable"] and held.quality == "check"
    assert held.cardiothoracic_ratio is None and held.as_dict()["predicted_dice"] == 0.85


def test_structures_from_the_second_network_are_flagged_and_their_ctr_withheld():
    kept = {"predicted_dice": 0.95, "check_below": 0.9, "second_opinion": {"lung_agreement": 0.97, "used": False}}
    assert measure_anatomy(_chest(), score=kept).flags == []
    used = {"predicted_dice": 0.95, "check_below": 0.9, "second_opinion": {"lung_agreement": 0.71, "used": True}}
    measures = measure_anatomy(_chest(), score=used)
    assert measures.flags == ["second_opinion_lungs", "ctr_not_measurable"] and measures.quality == "check"
    assert measures.cardiothoracic_ratio is None
    # since 0.8.7 also where the lungs agree but the network stopped a lung's base short of the second network's
    short = {**kept, "second_opinion": {"lung_agreement": 0.96, "base_gap": 0.12, "used": True}}
    record = measure_anatomy(_chest(), score=short).as_dict()
    assert record["flags"] == ["second_opinion_lungs", "ctr_not_measurable"] and record["lung_base_gap"] == 0.12
    assert measure_anatomy(_chest(), score=kept).as_dict()["lung_base_gap"] is None


def test_a_ragged_lung_base_is_flagged_and_its_ctr_withheld():
    smooth = {"predicted_dice": 0.95, "check_below": 0.9, "ragged_lung_base": False}
    assert measure_anatomy(_chest(), score=smooth).flags == []
    ragged = measure_anatomy(_chest(), score={**smooth, "ragged_lung_base": True})
    assert ragged.flags == ["ragged_lung_base", "ctr_not_measurable"] and ragged.quality == "check"
    assert ragged.cardiothoracic_ratio is None and ragged.thoracic_width_px is not None
    # A film without lungs has no base to be ragged: `no_lungs` says what is wrong, not a notch in nothing.
    empty = measure_anatomy(np.zeros((3, 400, 400), bool), score={**smooth, "ragged_lung_base": True})
    assert "no_lungs" in empty.flags and "ragged_lung_base" not in empty.flags and empty.quality == "check"


def _solidity_of_the_whole_outline(mask: np.ndarray) -> float:
    """Solidity as 0.6.0 computed it: the hull of every outline pixel (the mask less its erosion)."""
    rows, columns = np.nonzero(mask & ~ndimage.binary_erosion(mask))
    return float(min(1.0, mask.sum() / ConvexHull(np.stack([columns, rows], axis=1)).volume))


def test_solidity_from_row_ends_equals_the_hull_of_the_whole_outline(cxr_dir):
    cases = [np.asarray(Image.open(p)) > 0 for p in sorted((cxr_dir / "ManualMask" / "leftMask").glob("*.png"))[:6]]
    ragged = _chest()[0]
    ragged[100:350, 60:180] = False
    rng = np.random.default_rng(0)
    noisy = ndimage.binary_opening(rng.random((120, 90)) > 0.4)
    for mask in [*cases, ragged, noisy]:
        assert solidity(mask) == pytest.approx(_solidity_of_the_whole_outline(mask), abs=1e-12)
    assert 0.79 < solidity(cases[0]) < 0.95  # a lung: concave at the heart and the diaphragm


def test_solidity_of_empty_and_flat_masks_is_zero():
    empty = np.zeros((20, 20), dtype=bool)
    row, column, diagonal = empty.copy(), empty.copy(), np.eye(20, dtype=bool)
    row[5, 2:15] = True
    column[2:15, 5] = True
    assert [solidity(m) for m in (empty, row, column, diagonal)] == [0.0, 0.0, 0.0, 0.0]


def test_no_lungs_and_no_heart_give_no_cardiothoracic_ratio():
    # a film whose structures came out as specks (an inverted or non-chest film): the widths of specks are no CTR
    specks = np.zeros((3, 400, 400), bool)
    specks[0, 300:304, 100:104] = specks[1, 300:304, 300:304] = True
    specks[2, 10:14, 10:200] = True
    measured = measure_anatomy(specks)
    assert {"no_lungs", "no_heart", "ctr_not_measurable"} <= set(measured.flags)
    assert measured.cardiothoracic_ratio is None and "implausible_ctr" not in measured.flags
    assert measured.cardiac_width_px == 190  # the widths stay in the record, for whoever looks into it
