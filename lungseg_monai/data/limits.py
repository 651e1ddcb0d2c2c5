"""Size limits that keep one odd file from exhausting memory."""

from __future__ import annotations

from pathlib import Path

from lungseg_monai.data.errors import RadiographReadError

__all__ = ["MAX_RADIOGRAPH_PIXELS", "check_pixel_count"]

#: No radiograph detector exceeds ~4300 x 4300 px (18.5 MP); a file claiming more than this is refused before its
#: pixels are decoded (decoding and normalising one takes several float32 copies of the image).
MAX_RADIOGRAPH_PIXELS = 50_000_000


def check_pixel_count(path: str | Path, rows: int, columns: int) -> None:
    """Raise when an image of ``rows x columns`` is empty or larger than any radiograph.

    Raises:
        RadiographReadError: the message names the file, its size and the limit.

    """
    if rows <= 0 or columns <= 0:
        raise RadiographReadError(f"{path}: image is {rows} x {columns} px; nothing to segment")
    if rows * columns > MAX_RADIOGRAPH_PIXELS:
        megapixels = rows * columns / 1e6
        raise RadiographReadError(
            f"{path}: image is {rows} x {columns} px ({megapixels:.0f} MP), over the "
            f"{MAX_RADIOGRAPH_PIXELS / 1e6:.0f} MP limit for a radiograph"
        )
