"""The cardiothoracic ratio (CTR) of a chest film from its right-lung, left-lung and cardiomediastinum masks.

Definition (the one every CTR of this package uses, on predicted and on reference masks alike):

* **cardiac width**: the maximal transverse width of the cardiomediastinal silhouette, i.e. the distance in
  columns between its leftmost and its rightmost pixel (the maximal right and left heart borders, MRD + MLD,
  measured from any midline, each at its own level);
* **thoracic width**: the maximal inner thoracic width, i.e. the widest row of the anatomical lungs, from the
  outer edge of the right lung to the outer edge of the left lung on the same row;
* **CTR** = cardiac width / thoracic width. Both widths are in pixels along image rows, so the ratio needs no
  pixel spacing.

It is meaningful only on an upright PA film taken at full inspiration: an AP or supine film magnifies the heart
(the heart is far from the detector) and raises the CTR; a rotated film shifts the
mediastinum and widens its projection; a shallow inspiration raises the diaphragm and broadens the heart. The
upper mediastinum belongs to the silhouette, so a wide mediastinum (aortic unfolding, a mass) can set the width.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CardiothoracicRatio", "cardiothoracic_ratio", "cardiothoracic_ratio_of_lungs", "row_ends"]


@dataclass(frozen=True)
class CardiothoracicRatio:
    """The CTR and the two widths it comes from (pixels); ``ratio`` is None where a structure is missing."""

    ratio: float | None
    cardiac_width_px: int
    thoracic_width_px: int
    thoracic_width_row: int | None


def row_ends(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return, per row of a boolean 2-D ``mask``, whether it has a pixel and the columns of its first and last one.

    The columns of an empty row are meaningless (0 and the last column); select rows by the first array.
    """
    first = np.argmax(mask, axis=1)
    last = mask.shape[1] - 1 - np.argmax(mask[:, ::-1], axis=1)
    return mask.any(axis=1), first, last


def _row_extents(mask: np.ndarray) -> np.ndarray:
    """Width of ``mask`` on each row, first to last pixel (0 on an empty row)."""
    occupied, first, last = row_ends(mask)
    return np.where(occupied, last - first + 1, 0)


def cardiothoracic_ratio(right_lung: np.ndarray, left_lung: np.ndarray, heart: np.ndarray) -> CardiothoracicRatio:
    """Return the CTR of boolean ``(rows, columns)`` masks (anatomical lungs; the cardiomediastinum)."""
    return cardiothoracic_ratio_of_lungs(right_lung | left_lung, heart)


def cardiothoracic_ratio_of_lungs(lungs: np.ndarray, heart: np.ndarray) -> CardiothoracicRatio:
    """Return the CTR of a boolean mask of both anatomical lungs and one of the cardiomediastinum.

    :func:`cardiothoracic_ratio` of a caller that has the union of the two lungs already (a full-size film's record).
    """
    columns = np.flatnonzero(heart.any(axis=0))
    cardiac = int(columns[-1] - columns[0] + 1) if columns.size else 0
    widths = _row_extents(lungs)
    row = int(np.argmax(widths)) if widths.any() else None
    thoracic = int(widths.max()) if widths.size else 0
    ratio = round(cardiac / thoracic, 4) if cardiac and thoracic else None
    return CardiothoracicRatio(ratio, cardiac, thoracic, row)
