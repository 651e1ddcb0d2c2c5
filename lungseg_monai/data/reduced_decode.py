"""Decode at a reduced resolution where the codec offers it: JPEG 2000 resolution levels, JPEG DCT scaling.

A network that sees 256 px needs no 2000 px decode. JPEG 2000 stores a film as wavelet resolution levels, so
level ``r`` is decoded at ``1/2**r`` of the size for a fraction of the work (Pillow's OpenJPEG ``reduce``); a JPEG
is decoded at 1/2, 1/4 or 1/8 of the size by DCT scaling (Pillow's ``draft``). Every function here returns None
where it cannot help (another codec, signed or multi-frame data, a decoder error), and the caller then decodes in
full: a reduced decode never changes which files can be read or what their errors say.
"""

from __future__ import annotations

import logging
from io import BytesIO

import numpy as np
import pydicom
from PIL import Image
from pydicom.encaps import generate_frames
from pydicom.uid import JPEG2000, JPEG2000Lossless, JPEGBaseline8Bit

__all__ = ["reduction_factor", "decode_reduced_dicom", "draft_reduced_jpeg"]

logger = logging.getLogger(__name__)

#: The largest reduction tried (JPEG DCT scaling stops at 1/8).
_MAX_FACTOR = 8


def reduction_factor(rows: int, columns: int, min_side: int) -> int:
    """Return the largest power of two ``f`` (at most 8) that keeps ``min(rows, columns) / f >= min_side``.

    ``min_side`` 0 (or an image already small) gives 1: decode in full.
    """
    factor = 1
    while min_side > 0 and factor < _MAX_FACTOR and min(rows, columns) // (2 * factor) >= min_side:
        factor *= 2
    return factor


def decode_reduced_dicom(ds: pydicom.Dataset, factor: int) -> np.ndarray | None:
    """Return the stored values of a single-frame greyscale DICOM image decoded at ``1/factor`` of its size.

    Only JPEG 2000 (unsigned) and 8-bit baseline JPEG are reduced; None for anything else or on any decoder error.
    """
    if factor <= 1 or int(ds.get("NumberOfFrames", 1) or 1) != 1 or int(ds.get("SamplesPerPixel", 1)) != 1:
        return None
    syntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    jpeg2000 = syntax in (JPEG2000, JPEG2000Lossless) and int(ds.get("PixelRepresentation", 0)) == 0
    jpeg = syntax == JPEGBaseline8Bit and int(ds.get("BitsAllocated", 8)) == 8
    if not (jpeg2000 or jpeg):
        return None
    # A damaged stream is decoded in full afterwards, where its error is reported as for any file.
    try:
        frame = next(generate_frames(ds.PixelData, number_of_frames=1))
        with Image.open(BytesIO(frame)) as image:
            if jpeg2000:
                image.reduce = factor.bit_length() - 1
            else:
                image.draft("L", (image.width // factor, image.height // factor))
            image.load()
            values = np.asarray(image)
    except Exception as err:  # noqa: BLE001
        logger.debug("reduced decode of %s not possible (%s); decoding in full", ds.get("SOPInstanceUID"), err)
        return None
    # Pillow scales J2K samples of fewer than 16 bits up to 16 bits ("I;16"); the modality and VOI LUTs of the
    # header are in the stored bit depth.
    bits = int(ds.get("BitsStored", 16))
    if values.dtype == np.uint16 and bits < 16:
        values = values >> (16 - bits)
    return values


def draft_reduced_jpeg(image: Image.Image, factor: int) -> None:
    """Ask Pillow to decode a JPEG file at ``1/factor`` of its size (DCT scaling); other formats are left alone."""
    if factor > 1 and image.format == "JPEG":
        image.draft(image.mode, (image.width // factor, image.height // factor))
