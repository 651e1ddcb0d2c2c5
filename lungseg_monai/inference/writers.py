"""Write a folder run's image outputs atomically: mask PNG, mask NIfTI and overlay PNG."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from isal import igzip

from lungseg_monai.data.atomic_writes import write_atomic
from lungseg_monai.data.display import display_uint8
from lungseg_monai.data.png_encoding import encode_png
from lungseg_monai.inference.label_tables import LABELS
from lungseg_monai.inference.overlay import OverlayNotes, annotate, tint

__all__ = ["write_mask_png", "write_mask_nifti", "write_overlay_png", "outline"]


def write_mask_png(target: str | Path, mask: np.ndarray) -> Path:
    """Write a ``(rows, columns)`` mask as an 8-bit PNG (lung 255, background 0), viewer orientation.

    Unfiltered rows, deflated by ISA-L at level 1: a 2128x2000 mask takes 0.8 ms and 21.9 kB, where zlib's level 1
    (0.6.1) took 7.7 ms and 14.5 kB, and Pillow takes 16.8 ms and 33 kB at level 1 and 23.7 ms and 14 kB at its
    default 6 (``docs/experiments/output_write_costs.py``).
    """
    pixels = np.asarray(mask, dtype=bool).view(np.uint8) * np.uint8(255)
    png = encode_png(pixels, "none", level=1)
    return write_atomic(target, lambda p: p.write_bytes(png))


def write_mask_nifti(target: str | Path, labels: np.ndarray, spacing_mm: tuple[float, float] | None) -> Path:
    """Write a label map (``uint8``; :mod:`~lungseg_monai.inference.label_tables`) as NIfTI, x = column, y = row.

    Read back by ``read_nifti_image``.
    """
    row_mm, col_mm = spacing_mm or (1.0, 1.0)
    affine = np.diag([col_mm, row_mm, 1.0, 1.0])
    # The transposed view is Fortran-ordered as NIfTI stores it: nibabel writes it without another copy.
    voxels = np.asarray(labels, dtype=np.uint8).T[..., None]
    nifti = nib.Nifti1Image(voxels, affine).to_bytes()
    # One gzip call instead of nibabel's file writer: that feeds zlib a row at a time, holding the GIL, so the item
    # threads wrote NIfTI files no faster than one thread did. ISA-L's level 1 (igzip) writes the same gzip format
    # faster and smaller than zlib's level 1, without the GIL. mtime 0: the same masks give the same file.
    payload = igzip.compress(nifti, compresslevel=1, mtime=0)
    return write_atomic(target, lambda p: p.write_bytes(payload))


def write_overlay_png(
    target: str | Path,
    pixels: np.ndarray,
    right: np.ndarray,
    left: np.ndarray,
    heart: np.ndarray | None = None,
    max_side: int = 1024,
    notes: OverlayNotes | None = None,
) -> Path:
    """Write the radiograph with each lung tinted and outlined in its colour, at most ``max_side`` pixels wide.

    ``heart``, when given, is outlined in its colour; ``notes`` adds the CTR's widths, a banner and a legend
    (:mod:`lungseg_monai.inference.overlay`). ``max_side`` 0 keeps the masks' (the film's) full size. ``pixels`` may
    be smaller than the masks (a reduced decode); the overlay then has the size it would have from a full decode.
    """
    shape = right.shape
    step = max(1, int(np.ceil(max(shape) / max_side))) if max_side > 0 else 1
    # Subsample first: a quick-look overlay needs no more than max_side pixels, and this keeps it cheap. The size
    # follows the masks (the film's grid); the pixels may have been decoded smaller (reduced decode): nearest ones.
    grid = (slice(None, None, step),) * 2  # every step-th row and column, as a view
    right_lung, left_lung = np.asarray(right[grid], dtype=bool), np.asarray(left[grid], dtype=bool)
    if tuple(pixels.shape) == tuple(shape):
        grey = display_uint8(pixels[grid])
    else:
        rows, columns = np.arange(0, shape[0], step), np.arange(0, shape[1], step)
        grey = display_uint8(pixels[np.ix_(rows * pixels.shape[0] // shape[0], columns * pixels.shape[1] // shape[1])])
    rgb = tint(grey, right_lung, left_lung)
    thickness = max(1, min(right_lung.shape) // 400)
    for mask, label in zip((right_lung, left_lung, None if heart is None else heart[grid]), LABELS, strict=True):
        if mask is not None:
            rgb[outline(np.asarray(mask, dtype=bool), thickness)] = label.rgb
    if notes is not None:
        rgb = annotate(rgb, notes, step, thickness)
    # "Up"-filtered rows deflated by ISA-L at level 1: a 1024x1024 overlay takes 7.5 ms and 717 kB, where zlib's
    # level 1 (0.6.1) took 25 ms and 748 kB, and Pillow takes 49 ms and 744 kB at level 1 and 172 ms and 614 kB at
    # its default 6 (docs/experiments/output_write_costs.py --overlay).
    png = encode_png(rgb, "up", level=1)
    return write_atomic(target, lambda p: p.write_bytes(png))


def outline(mask: np.ndarray, thickness: int = 1) -> np.ndarray:
    """Return the pixels of a boolean 2-D ``mask`` within ``thickness`` 4-connected steps of its background.

    Equal to ``mask & ~scipy.ndimage.binary_erosion(mask, iterations=thickness)`` (outside the image counts as
    background): each erosion step is one AND of four shifted views, 0.9 ms against SciPy's 3.3 ms on a 667x710
    preview (``docs/experiments/output_write_costs.py``).
    """
    mask = np.asarray(mask, dtype=bool)
    eroded = mask
    for _ in range(thickness):
        inner = np.zeros_like(mask)
        core = eroded[1:-1, 1:-1]
        inner[1:-1, 1:-1] = core & eroded[:-2, 1:-1] & eroded[2:, 1:-1] & eroded[1:-1, :-2] & eroded[1:-1, 2:]
        eroded = inner
    return mask & ~eroded
