"""Split a binary lung mask into the patient's right and left lung."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["centre_column", "split_lungs"]


def split_lungs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (right, left) lung masks: the two largest components, ordered by column of their centroid.

    The component on the image's left is the patient's right lung (standard PA/AP display).
    """
    labels, count = ndimage.label(mask > 0)
    empty = np.zeros(mask.shape, dtype=bool)
    if count == 0:
        return empty, empty.copy()
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    parts = [labels == index for index in np.argsort(sizes)[::-1][:2] + 1]
    if len(parts) == 1:
        return (parts[0], empty) if centre_column(parts[0]) < mask.shape[1] / 2 else (empty, parts[0])
    parts.sort(key=centre_column)
    return parts[0], parts[1]


def centre_column(mask: np.ndarray) -> float | None:
    """Return the mean column of a 2-D mask's pixels (its centroid's column), or None when it is empty."""
    # Column counts summed as bytes into 32-bit counts: a third of the time of a boolean sum, which widens every
    # pixel to 64 bits first (a full-size film's record takes three of these).
    per_column = np.asarray(mask, dtype=bool).view(np.uint8).sum(axis=0, dtype=np.uint32)
    total = per_column.sum()
    return float((per_column * np.arange(mask.shape[1])).sum() / total) if total else None
