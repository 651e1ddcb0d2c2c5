"""The overlay's outlines, mask PNG and NIfTI label map, against SciPy, Pillow and ITK on real and random masks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image
from scipy import ndimage

from lungseg_monai.inference.writers import outline, write_mask_nifti, write_mask_png


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


def test_nifti_label_map_of_real_lungs_reads_back_in_itk_and_nibabel(cxr_dir, tmp_path):
    """The ISA-L gzip stream decodes in ITK's zlib and in Python's gzip (nibabel) to the label map written."""
    import gzip

    import itk
    import nibabel as nib

    name = sorted((cxr_dir / "ManualMask" / "rightMask").glob("*.png"))[0].name
    right = np.asarray(Image.open(cxr_dir / "ManualMask" / "rightMask" / name).convert("L")) > 0
    left = np.asarray(Image.open(cxr_dir / "ManualMask" / "leftMask" / name).convert("L")) > 0
    labels = np.where(right, 1, np.where(left, 2, 0)).astype(np.uint8)
    path = write_mask_nifti(tmp_path / "m.nii.gz", labels, (0.5, 0.25))
    assert gzip.decompress(path.read_bytes())[:4] == (348).to_bytes(4, "little")  # a NIfTI-1 header inside
    np.testing.assert_array_equal(np.asarray(nib.load(path).dataobj)[..., 0].T, labels)
    image = itk.imread(str(path))
    np.testing.assert_array_equal(itk.array_from_image(image).reshape(labels.shape), labels)
    assert tuple(image.GetSpacing())[:2] == (0.25, 0.5)  # x = column, y = row
