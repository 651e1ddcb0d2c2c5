"""Write masks, overlays and records atomically (temporary file in the same folder, then rename)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from PIL import Image
from scipy import ndimage

__all__ = [
    "atomic_path",
    "write_atomic",
    "write_json",
    "write_mask_png",
    "write_mask_nifti",
    "write_overlay_png",
    "display_uint8",
]


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it onto ``target``, on error delete it."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        # mkstemp creates 0600 files; give outputs the usual permissions (0666 less the umask).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, target)
    finally:
        if temp.exists():
            temp.unlink()


def write_atomic(target: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write`` on a temporary path beside ``target`` and rename the result onto ``target``."""
    with atomic_path(target) as temp:
        write(temp)
    return Path(target)


def write_json(target: str | Path, record: dict[str, Any]) -> Path:
    """Write ``record`` as indented JSON."""
    return write_atomic(target, lambda p: p.write_text(json.dumps(record, indent=2, default=str) + "\n"))


def write_mask_png(target: str | Path, mask: np.ndarray) -> Path:
    """Write a ``(rows, columns)`` mask as an 8-bit PNG (lung 255, background 0), viewer orientation."""
    image = Image.fromarray(np.where(mask > 0, 255, 0).astype(np.uint8), mode="L")
    return write_atomic(target, lambda p: image.save(p, format="PNG"))


def write_mask_nifti(target: str | Path, mask: np.ndarray, spacing_mm: tuple[float, float] | None) -> Path:
    """Write a mask as NIfTI with x = column and y = row (read back by ``read_nifti_image``)."""
    row_mm, col_mm = spacing_mm or (1.0, 1.0)
    affine = np.diag([col_mm, row_mm, 1.0, 1.0])
    image = nib.Nifti1Image(np.ascontiguousarray((mask > 0).astype(np.uint8).T[..., None]), affine)
    # nibabel picks the format from the suffix, so the temporary file keeps ".nii.gz".
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp.nii.gz")
    try:
        image.to_filename(str(temp))
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return target


def display_uint8(pixels: np.ndarray) -> np.ndarray:
    """Scale a radiograph to 8 bits between its 0.5th and 99.5th percentiles."""
    low, high = np.percentile(pixels, [0.5, 99.5])
    scaled = (pixels - low) / max(high - low, 1e-6)
    return (np.clip(scaled, 0, 1) * 255).astype(np.uint8)


def write_overlay_png(target: str | Path, pixels: np.ndarray, mask: np.ndarray, max_side: int = 1024) -> Path:
    """Write the radiograph with the lungs tinted red and outlined in yellow, at most ``max_side`` pixels wide."""
    step = max(1, int(np.ceil(max(pixels.shape) / max_side)))
    # Subsample first: a quick-look overlay needs no more than max_side pixels, and this keeps it cheap.
    grey = display_uint8(pixels[::step, ::step])
    lung = mask[::step, ::step] > 0
    rgb = np.stack([grey] * 3, axis=-1).astype(np.float32)
    rgb[lung] = 0.6 * rgb[lung] + 0.4 * np.array([255, 40, 40], dtype=np.float32)
    rgb[lung & ~_eroded(lung)] = (255, 230, 0)
    image = Image.fromarray(rgb.astype(np.uint8), mode="RGB")
    # zlib level 3: on radiograph overlays about as small as the default level 6, and faster to write.
    return write_atomic(target, lambda p: image.save(p, format="PNG", compress_level=3))


def _eroded(mask: np.ndarray) -> np.ndarray:
    thickness = max(1, min(mask.shape) // 400)
    return ndimage.binary_erosion(mask, iterations=thickness)
