"""Lung splitting, areas and quality flags on exact synthetic masks."""

from __future__ import annotations

import numpy as np

from lungseg_monai.inference import measure_lungs
from lungseg_monai.transforms.lung_split import split_lungs


def _two_lungs() -> np.ndarray:
    mask = np.zeros((400, 400), dtype=np.uint8)
    mask[50:350, 40:180] = 1  # image left = patient's right
    mask[60:340, 230:360] = 1
    return mask


def test_split_orders_right_then_left():
    right, left = split_lungs(_two_lungs())
    assert right.sum() == 300 * 140 and left.sum() == 280 * 130


def test_areas_in_pixels_and_cm2():
    measures = measure_lungs(_two_lungs(), spacing_mm=(0.5, 0.5), spacing_source="PixelSpacing")
    assert measures.right_lung_px == 42000 and measures.left_lung_px == 36400
    assert measures.right_lung_cm2 == 105.0 and measures.left_lung_cm2 == 91.0
    assert measures.flags == [] and measures.quality == "ok"


def test_flags():
    assert "no_lungs" in measure_lungs(np.zeros((400, 400))).flags
    one = _two_lungs()
    one[:, 200:] = 0
    assert "one_lung" in measure_lungs(one).flags
    small_left = _two_lungs()
    small_left[:, 300:] = 0
    assert "asymmetric_lungs" in measure_lungs(small_left).flags
    border = _two_lungs()
    border[:, :5] = 1
    assert "lungs_touch_border" in measure_lungs(border).flags
    assert "small_image" in measure_lungs(_two_lungs()[::2, ::2]).flags
    assert "uncalibrated_spacing" in measure_lungs(_two_lungs(), (0.4, 0.4), "ImagerPixelSpacing").flags
    assert measure_lungs(_two_lungs()).right_lung_cm2 is None
