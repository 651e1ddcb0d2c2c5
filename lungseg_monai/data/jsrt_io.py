"""Read the JSRT chest X-ray database's raw ``.IMG`` files.

The JSRT set (Japanese Society of Radiological Technology; 247 PA films) ships each image as a headerless
2048 x 2048 array of 12-bit values in big-endian 16-bit words, 0.175 mm pixels, stored with the opposite polarity
of a display (air is high). The reader returns display polarity (air dark), as every other reader here does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lungseg_monai.data.errors import RadiographReadError

__all__ = ["JSRT_SUFFIXES", "JSRT_SHAPE", "JSRT_SPACING_MM", "is_jsrt_file", "read_jsrt_image"]

JSRT_SUFFIXES = (".img",)
JSRT_SHAPE = (2048, 2048)
JSRT_SPACING_MM = (0.175, 0.175)
_JSRT_MAX = 4095  # 12 bits stored
_JSRT_BYTES = JSRT_SHAPE[0] * JSRT_SHAPE[1] * 2


def is_jsrt_file(path: str | Path) -> bool:
    """Return True for a ``.IMG`` file (any case); its size is checked when it is read."""
    return Path(path).name.lower().endswith(JSRT_SUFFIXES)


def read_jsrt_image(path: str | Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a JSRT ``.IMG`` file as a ``(2048, 2048)`` float32 array in display polarity (0 = black).

    Raises:
        RadiographReadError: the file is not the 8 MiB a JSRT image is, or holds values above 12 bits.

    """
    path = Path(path)
    size = path.stat().st_size
    if size != _JSRT_BYTES:
        raise RadiographReadError(
            f"{path}: {size} bytes; a JSRT .IMG file is {_JSRT_BYTES} (2048 x 2048 big-endian 16-bit words)"
        )
    raw = np.fromfile(path, dtype=">u2").reshape(JSRT_SHAPE)
    if int(raw.max()) > _JSRT_MAX:
        raise RadiographReadError(f"{path}: values up to {int(raw.max())}; JSRT images hold 12-bit values")
    pixels = (_JSRT_MAX - raw).astype(np.float32)
    meta = {"source_format": "jsrt", "spacing_mm": JSRT_SPACING_MM, "spacing_source": "JSRT specification"}
    return pixels, meta
