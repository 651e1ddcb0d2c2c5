"""The overlay's outlines and the mask PNG, against SciPy and Pillow on real and random masks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image
from scipy import ndimage

from lungseg_monai.inference.writers import outline, write_mask_png


@settings(max_examples=200, deadline=None)
@given(mask=arrays(bool, st.tuples(st.integers(1, 12), st.integers(1, 12))), thickness=st.integers(1, 3))
def test_outline_is_the_mask_less_its_erosion(mask, thickness):
    expected = mask & ~ndimage.binary_erosion(mask, iterations=thickness)
    np.testing.assert_array_equal(outline(mask, thickness), expected)


def test_outline_of_a_real_lung_mask(cxr_dir):
    path = sorted((cxr_dir / "ManualMask" / "rightMask").glob("*.png"))[0]
    mask = np.asarray(Image.open(path).convert("L"))[::2, ::2] > 0
    expected = mask & ~ndimage.binary_erosion(mask, iterations=2)
    assert expected.sum() > 1000
    np.testing.assert_array_equal(outline(mask, 2), expected)


@pytest.mark.parametrize("dtype", [bool, np.uint8, np.float32])
def test_mask_png_is_lung_255_background_0(tmp_path, dtype):
    mask = np.zeros((30, 20), dtype=dtype)
    mask[5:25, 3:9] = 1
    written = np.asarray(Image.open(write_mask_png(tmp_path / "m.png", mask)))
    assert written.dtype == np.uint8 and set(np.unique(written)) == {0, 255}
    np.testing.assert_array_equal(written > 0, mask > 0)
