"""PNG files of the package's encoder decode, with Pillow, to exactly the pixels given."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from lungseg_monai.data.png_encoding import encode_png


def _decoded(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


@pytest.mark.parametrize("row_filter", ["none", "up"])
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (37, 53), (37, 53, 3)])
def test_round_trip(shape, row_filter):
    pixels = np.random.default_rng(1).integers(0, 256, size=shape, dtype=np.uint8)
    image = Image.open(io.BytesIO(encode_png(pixels, row_filter)))
    assert image.mode == ("RGB" if len(shape) == 3 else "L")
    np.testing.assert_array_equal(np.asarray(image), pixels)


def test_real_film_and_mask_round_trip(cxr_dir):
    name = sorted((cxr_dir / "ManualMask" / "leftMask").glob("*.png"))[0].name
    mask = (np.asarray(Image.open(cxr_dir / "ManualMask" / "leftMask" / name).convert("L")) > 0).astype(np.uint8) * 255
    film = np.asarray(Image.open(next((cxr_dir / "images").glob(name.rsplit(".", 1)[0] + ".*"))).convert("RGB"))
    np.testing.assert_array_equal(_decoded(encode_png(mask, "none")), mask)
    np.testing.assert_array_equal(_decoded(encode_png(film, "up")), film)
    # Non-contiguous input (a strided preview) is encoded as the values it shows.
    np.testing.assert_array_equal(_decoded(encode_png(film[::3, ::2], "up")), film[::3, ::2])


@pytest.mark.parametrize(
    "pixels, row_filter",
    [
        (np.zeros((4, 4), np.uint16), "none"),
        (np.zeros((4, 4, 4), np.uint8), "none"),
        (np.zeros((0, 4), np.uint8), "none"),
        (np.zeros((4, 4), np.uint8), "paeth"),
    ],
)
def test_refuses_what_it_cannot_encode(pixels, row_filter):
    with pytest.raises(ValueError, match="PNG"):
        encode_png(pixels, row_filter)


def test_libpng_reads_the_same_pixels(tmp_path):
    """A second, independent decoder (ITK's libpng) reads the files as Pillow does."""
    import itk  # a declared dependency: libpng behind it

    rng = np.random.default_rng(2)
    for name, pixels, row_filter in [
        ("mask.png", (rng.random((40, 30)) > 0.5).astype(np.uint8) * 255, "none"),
        ("overlay.png", rng.integers(0, 256, size=(40, 30, 3), dtype=np.uint8), "up"),
    ]:
        path = tmp_path / name
        path.write_bytes(encode_png(pixels, row_filter))
        np.testing.assert_array_equal(itk.array_from_image(itk.imread(str(path))), pixels)
