"""Read radiographs and masks from PNG/JPEG, DICOM and NIfTI into row-major greyscale arrays.

Every reader returns ``(pixels, meta)`` with ``pixels`` shaped ``(rows, columns)``: the first axis runs top to
bottom and the second left to right, exactly as a viewer shows the image. (MONAI's ``PILReader`` swaps the two
unless ``reverse_indices=False``; this package never does.)
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from PIL import Image, UnidentifiedImageError

from lungseg_monai.data.dicom_io import is_dicom_file, read_dicom_radiograph
from lungseg_monai.data.errors import RadiographReadError
from lungseg_monai.data.jsrt_io import JSRT_SUFFIXES, is_jsrt_file, read_jsrt_image
from lungseg_monai.data.limits import check_pixel_count
from lungseg_monai.data.reduced_decode import draft_reduced_jpeg, reduction_factor

__all__ = [
    "read_radiograph",
    "read_pil_image",
    "read_nifti_image",
    "PIL_SUFFIXES",
    "NIFTI_SUFFIXES",
    "JSRT_SUFFIXES",
]

PIL_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
NIFTI_SUFFIXES = (".nii", ".nii.gz")


def _to_greyscale(image: Image.Image) -> np.ndarray:
    """Collapse any PIL mode to one channel, keeping 16-bit depth and dropping alpha onto black."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return np.asarray(image, dtype=np.float32)
    if image.mode in ("RGBA", "LA", "P", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image.convert("L"), dtype=np.float32)


def read_pil_image(path: str | Path, min_side: int = 0) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a PNG/JPEG/TIFF file as a ``(rows, columns)`` float32 array (RGB and RGBA become luminance).

    With ``min_side`` a JPEG is decoded at 1/2, 1/4 or 1/8 of its size (DCT scaling), keeping at least
    ``min_side`` pixels on the shorter side; ``original_shape`` in the meta is the file's size.
    """
    path = Path(path)
    try:
        with Image.open(path) as image:
            columns, rows = image.size
            check_pixel_count(path, rows, columns)
            draft_reduced_jpeg(image, reduction_factor(rows, columns, min_side))
            image.load()
            mode = image.mode
            pixels = _to_greyscale(image)
    except RadiographReadError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, EOFError) as err:
        raise RadiographReadError(f"{path}: unreadable image ({err})") from err
    except (ValueError, TypeError, IndexError, struct.error) as err:
        raise RadiographReadError(f"{path}: corrupt image ({type(err).__name__}: {err})") from err
    meta = {"source_format": "image", "source_mode": mode, "spacing_mm": None, "spacing_source": "none"}
    return pixels, {**meta, "original_shape": (rows, columns)}


def read_nifti_image(path: str | Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a 2-D NIfTI image stored x = column, y = row (as ``write_nifti_mask`` writes it)."""
    path = Path(path)
    try:
        image = nib.load(str(path))
        columns, rows = int(image.shape[0]), int(np.prod(image.shape[1:]))  # x = column, y = row
        check_pixel_count(path, rows, columns)
        data = np.asarray(image.dataobj, dtype=np.float32)
    except RadiographReadError:
        raise
    except (OSError, nib.filebasedimages.ImageFileError, EOFError, ValueError, TypeError, MemoryError) as err:
        raise RadiographReadError(f"{path}: unreadable NIfTI ({type(err).__name__}: {err})") from err
    data = np.squeeze(data)
    if data.ndim != 2:
        raise RadiographReadError(f"{path}: NIfTI has shape {data.shape}; a radiograph is 2-D")
    zooms = image.header.get_zooms()[:2]
    spacing = (float(zooms[1]), float(zooms[0])) if all(z > 0 for z in zooms) else None
    meta = {"source_format": "nifti", "spacing_mm": spacing, "spacing_source": "nifti" if spacing else "none"}
    return np.ascontiguousarray(data.T), meta


def read_radiograph(path: str | Path, min_side: int = 0) -> tuple[np.ndarray, dict[str, Any]]:
    """Read any supported radiograph or mask file.

    Args:
        path: PNG/JPEG/TIFF (8 or 16 bit, L/RGB/RGBA), DICOM (any suffix or none), NIfTI or a JSRT raw ``.IMG``.
        min_side: decode JPEG 2000 and JPEG data at a reduced resolution, keeping at least this many pixels on
            the shorter side (0: in full); ``meta["original_shape"]`` is then the file's size.

    Returns:
        ``(pixels, meta)``: a ``(rows, columns)`` float32 array in display polarity, and facts about the source
        (format, spacing in mm and where it came from, a DICOM file's ViewPosition and header values, the file's
        ``original_shape``).

    Raises:
        RadiographReadError: missing, unreadable or unsupported file; the message names it.

    """
    path = Path(path)
    if not path.is_file():
        raise RadiographReadError(f"{path}: no such file")
    name = path.name.lower()
    if name.endswith(NIFTI_SUFFIXES):
        return read_nifti_image(path)
    if name.endswith(PIL_SUFFIXES):
        return read_pil_image(path, min_side)
    if is_jsrt_file(path):
        return read_jsrt_image(path)
    if is_dicom_file(path):
        decoded = read_dicom_radiograph(path, min_side=min_side)
        meta = {
            "original_shape": decoded.original_shape,
            "source_format": "dicom",
            "spacing_mm": decoded.spacing_mm,
            "spacing_source": decoded.spacing_source,
            "photometric": decoded.photometric,
            "view_position": decoded.view_position,
            "dicom": decoded.header,
        }
        return decoded.pixels, meta
    raise RadiographReadError(f"{path}: unsupported file type (expected PNG/JPEG, DICOM, NIfTI or JSRT .IMG)")
