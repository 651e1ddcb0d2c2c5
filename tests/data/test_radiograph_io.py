"""PNG/JPEG/NIfTI reading: orientation, modes and bit depth."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from lungseg_monai.data import RadiographReadError, read_radiograph
from lungseg_monai.inference.writers import write_mask_nifti


def _marked_image() -> np.ndarray:
    """A 40 x 60 (rows x columns) image with a bright block in the top-left corner only."""
    pixels = np.zeros((40, 60), dtype=np.uint8)
    pixels[:5, :10] = 200
    return pixels


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "I;16"])
def test_png_modes_keep_orientation(tmp_path, mode):
    marked = _marked_image()
    if mode == "I;16":
        image = Image.fromarray(marked.astype(np.uint16) * 256)
    else:
        image = Image.fromarray(marked).convert(mode)
    image.save(tmp_path / "x.png")
    pixels, meta = read_radiograph(tmp_path / "x.png")
    assert pixels.shape == (40, 60)
    assert pixels[:5, :10].min() > 0 and pixels[5:, :].max() == 0 and pixels[:, 10:].max() == 0
    assert meta["source_format"] == "image"


def test_16_bit_png_keeps_values_above_255(tmp_path):
    Image.fromarray(_marked_image().astype(np.uint16) * 256).save(tmp_path / "x.png")
    pixels, _ = read_radiograph(tmp_path / "x.png")
    assert pixels.max() == 200 * 256


def test_rgba_transparency_is_dropped_onto_black(tmp_path):
    rgba = np.zeros((10, 10, 4), dtype=np.uint8)
    rgba[..., :3] = 255
    rgba[:, :5, 3] = 255
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "x.png")
    pixels, _ = read_radiograph(tmp_path / "x.png")
    assert pixels[:, :5].min() == 255 and pixels[:, 5:].max() == 0


def test_nifti_round_trip_keeps_orientation(tmp_path):
    marked = _marked_image()
    write_mask_nifti(tmp_path / "m.nii.gz", marked, (0.5, 0.25))
    pixels, meta = read_radiograph(tmp_path / "m.nii.gz")
    np.testing.assert_array_equal(pixels > 0, marked > 0)
    assert meta["spacing_mm"] == (0.5, 0.25)
    assert nib.load(tmp_path / "m.nii.gz").shape == (60, 40, 1)


def test_real_jpeg_and_png_match_pil_size(cxr_dir):
    for name in ["ARDSSevere.png", "covid-19-pneumonia-15-PA.jpg", "23E99E2E-447C-46E5-8EB2-D35D12473C39.png"]:
        pixels, _ = read_radiograph(cxr_dir / "images" / name)
        width, height = Image.open(cxr_dir / "images" / name).size
        assert pixels.shape == (height, width)
        assert 0 <= pixels.min() and pixels.max() <= 255


def test_missing_and_unsupported_files_name_the_file(tmp_path):
    with pytest.raises(RadiographReadError, match="nothere.png: no such file"):
        read_radiograph(tmp_path / "nothere.png")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(RadiographReadError, match="notes.txt: unsupported"):
        read_radiograph(tmp_path / "notes.txt")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    with pytest.raises(RadiographReadError, match="broken.png: unreadable"):
        read_radiograph(tmp_path / "broken.png")
