"""Encode 8-bit greyscale and RGB images as PNG with a chosen row filter, for outputs written on every film.

Pillow offers no choice of the PNG row filter: for 8-bit images it tries all five on every row and keeps the
best, which is most of its encoding time at zlib level 1 (a 2000x2128 lung mask: 17.0 ms, of which 15.5 ms
remain at level 0, which compresses nothing). Lung masks compress well unfiltered, and a radiograph preview as
well with the "Up" filter (the difference to the row above) as with Pillow's choice. Each filter is one NumPy
operation here. The deflate stream comes from ISA-L (Intel's Intelligent Storage Acceleration library, through
the ``isal`` package) at its level 1, in the zlib format every PNG reader decodes: a 1024x1024 overlay in 7.5 ms
and 717 kB, a 2000x2128 mask in 0.8 ms and 22 kB, where zlib's level 1 took 25 ms and 748 kB, and 7.7 ms and 15 kB
(run-length coded). ISA-L releases the GIL, so the item threads compress side by side
(``python docs/experiments/output_write_costs.py``). Tests read the files back with Pillow and with ITK's libpng.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from isal import isal_zlib

__all__ = ["encode_png", "ROW_FILTERS"]

#: The PNG row filters this encoder applies, with their filter-type byte (PNG specification, section 9.2).
ROW_FILTERS = {"none": 0, "up": 2}

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: PNG colour type per number of channels: greyscale, truecolour.
_COLOUR_TYPE = {1: 0, 3: 2}


def encode_png(pixels: np.ndarray, row_filter: str = "none", level: int = 1) -> bytes:
    """Return the PNG file of an 8-bit ``(rows, columns)`` greyscale or ``(rows, columns, 3)`` RGB image.

    Args:
        pixels: ``uint8`` pixel values.
        row_filter: ``"none"`` (masks, large uniform areas) or ``"up"`` (photographic content).
        level: ISA-L compression level, 0-3 (0 fastest and largest; 1 compresses masks and previews best for
            its time).

    Raises:
        ValueError: for another dtype, shape, an empty image or an unknown filter.

    """
    channels = 1 if pixels.ndim == 2 else pixels.shape[-1] if pixels.ndim == 3 else 0
    if pixels.dtype != np.uint8 or channels not in _COLOUR_TYPE or 0 in pixels.shape:
        raise ValueError(f"a PNG needs non-empty uint8 (rows, columns[, 3]) pixels, got {pixels.dtype} {pixels.shape}")
    if row_filter not in ROW_FILTERS:
        raise ValueError(f"unknown PNG row filter {row_filter!r}; expected one of {', '.join(ROW_FILTERS)}")
    rows = pixels.reshape(pixels.shape[0], -1)
    # Each row starts with its filter-type byte; "Up" stores each row less the one above (modulo 256), the first
    # row as it is (the row above it counts as zeros).
    filtered = np.empty((rows.shape[0], rows.shape[1] + 1), dtype=np.uint8)
    filtered[:, 0] = ROW_FILTERS[row_filter]
    filtered[:, 1:] = rows
    if row_filter == "up":
        np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
    data = isal_zlib.compress(filtered, level)
    header = struct.pack(">IIBBBBB", pixels.shape[1], pixels.shape[0], 8, _COLOUR_TYPE[channels], 0, 0, 0)
    return _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
