"""A MONAI ``ImageReader`` for radiographs and masks: ``LoadImaged(keys, reader=RadiographReader())``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from monai.data import ImageReader
from monai.utils import MetaKeys, ensure_tuple

from lungseg_monai.data.radiograph_io import read_radiograph

__all__ = ["RadiographReader", "VIEW_POSITION", "pixel_spacing"]

#: ``spacing_source`` of an image whose pixel spacing is unknown (its affine is then the identity).
UNKNOWN_SPACING = "none"
#: Meta key of a DICOM film's ViewPosition (``PA``, ``AP``...), upper case; ``""`` when the file has none.
VIEW_POSITION = "view_position"


class RadiographReader(ImageReader):
    """Read one radiograph or mask file in viewer orientation (rows, columns).

    PNG/JPEG/TIFF (8/16-bit, L/RGB/RGBA), DICOM (any suffix, MONOCHROME1 inverted, modality and VOI LUTs
    applied), NIfTI and JSRT ``.IMG`` files are read.

    The pixel spacing is kept in one place: the affine (``diag(row_mm, column_mm, 1)``, the identity when the
    spacing is unknown) with ``spacing_source`` naming where it came from (``"none"`` when unknown). Use
    :func:`pixel_spacing` to read it back. The meta also holds ``source_format`` (``dicom``, ``image``, ...) and
    ``view_position`` (a DICOM film's ViewPosition, ``""`` when it has none).

    With ``min_side`` (folder inference), JPEG 2000 and JPEG data are decoded at a reduced resolution that keeps at
    least ``min_side`` pixels on the shorter side; ``original_shape`` in the meta is always the file's (rows,
    columns), the affine is that of the decoded grid and the original affine that of the file.

    The file is decoded in :meth:`get_data`, so that a ``RadiographReadError`` naming the file and the problem
    reaches the caller as it is (``LoadImage`` would turn an error of :meth:`read` into a generic one).

    Example:
        >>> load = LoadImaged(keys="image", reader=RadiographReader(), ensure_channel_first=True)
        >>> load({"image": "images/CHNCXR_0001_0.png"})["image"].shape  # (1, rows, columns)

    """

    def __init__(self, min_side: int = 0) -> None:
        super().__init__()
        self.min_side = min_side

    def verify_suffix(self, filename: Sequence[str | Path] | str | Path) -> bool:
        """Accept any single file: DICOM files often have no suffix; :meth:`get_data` says what it cannot read."""
        return len(ensure_tuple(filename)) == 1

    def read(self, data: Sequence[str | Path] | str | Path, **kwargs: Any) -> Path:
        """Return the path of the one file to read (decoding happens in :meth:`get_data`)."""
        paths = ensure_tuple(data)
        if len(paths) != 1:
            raise ValueError(f"a radiograph is one file, got {len(paths)}: {paths}")
        return Path(paths[0])

    def get_data(self, img: Path) -> tuple[np.ndarray, dict[str, Any]]:
        """Decode the file; return its ``(rows, columns)`` float32 pixels and meta data.

        Raises:
            RadiographReadError: the file cannot be read (``NotARadiographError`` when it is not a frontal chest film).

        """
        pixels, source = read_radiograph(img, self.min_side)
        original_shape = tuple(int(n) for n in source.get("original_shape") or pixels.shape)
        spacing = source.get("spacing_mm")
        affine = np.diag([float(spacing[0]), float(spacing[1]), 1.0]) if spacing else np.eye(3)
        scale = [original / decoded for original, decoded in zip(original_shape, pixels.shape, strict=True)]
        meta = {
            MetaKeys.AFFINE: affine @ np.diag([*scale, 1.0]),
            MetaKeys.ORIGINAL_AFFINE: affine.copy(),
            "original_shape": np.asarray(original_shape),
            MetaKeys.SPATIAL_SHAPE: np.asarray(pixels.shape),
            MetaKeys.ORIGINAL_CHANNEL_DIM: "no_channel",
            "spacing_source": source.get("spacing_source", UNKNOWN_SPACING) if spacing else UNKNOWN_SPACING,
            "source_format": source.get("source_format", "image"),
            VIEW_POSITION: source.get("view_position", ""),
        }
        return pixels, meta


def pixel_spacing(meta: dict[str, Any]) -> tuple[float, float] | None:
    """Return the ``(row, column)`` spacing in mm of an image read by :class:`RadiographReader`, None if unknown.

    It reads the original affine, so it holds after the image was resized to the network's grid.
    """
    if str(meta.get("spacing_source", UNKNOWN_SPACING)) == UNKNOWN_SPACING:
        return None
    affine = np.asarray(meta[MetaKeys.ORIGINAL_AFFINE], dtype=np.float64)
    return float(affine[0, 0]), float(affine[1, 1])
