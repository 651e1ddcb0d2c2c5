"""Measure the predicted structures of one film (lung and heart areas, CTR) and flag implausible anatomy.

The bounds lie outside the ranges of the cxr-lung-lr reference masks that ``docs/experiments/reference_anatomy.py``
prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from lungseg_monai.transforms.cardiothoracic import cardiothoracic_ratio_of_lungs, row_ends
from lungseg_monai.transforms.lung_split import centre_column
from lungseg_monai.transforms.mask_cleanup import bounding_box
from lungseg_monai.transforms.predicted_dice import calls_for_check, ragged_lung_base, second_opinion_used
from lungseg_monai.transforms.structures import CARDIOMEDIASTINUM, CONVENTIONS, lung_masks

__all__ = ["AnatomyMeasures", "measure_anatomy", "solidity", "LUNG_FLAGS", "ANATOMY_FLAGS", "SCORE_FLAGS"]

#: A lung smaller than this share of the other is missing.
_MIN_SECOND_LUNG_SHARE = 0.15
#: Two lungs whose areas differ more than this ratio (smaller / larger) are implausible.
_MIN_LUNG_AREA_RATIO = 0.5
#: Lungs covering less than this share of the image count as "no lungs".
_MIN_LUNG_FRACTION = 0.02
#: Plausible share of a chest film covered by both lungs (cxr-lung-lr reference masks: 0.20 to 0.59).
_LUNG_FRACTION = (0.12, 0.75)
#: A lung whose area is less than this share of its convex hull's is not lung-shaped (reference masks: 0.796 and up).
_MIN_LUNG_SOLIDITY = 0.7
#: Share of the image border covered by the lungs above which they "touch the border".
_MAX_BORDER_SHARE = 0.05
#: Images smaller than this (pixels, shorter side) are thumbnails, not diagnostic radiographs.
_MIN_IMAGE_SIDE = 256
#: A cardiomediastinum covering less than this share of the image is missing.
_MIN_HEART_FRACTION = 0.02
#: Plausible cardiomediastinum area / anatomical lung area (cxr-lung-lr reference masks: 0.21 to 0.62).
_HEART_TO_LUNG_AREA = (0.12, 1.0)
#: Plausible CTR (cxr-lung-lr reference masks: 0.35 to 0.61; severe cardiomegaly stays below 0.8).
_CTR_RANGE = (0.3, 0.8)
#: Plausible position of the heart's centre between the lungs' centres (0 = right lung, 1 = left lung;
#: cxr-lung-lr reference masks: 0.50 to 0.74, the heart lies left of the midline).
_HEART_POSITION = (0.42, 0.9)

#: Flags raised from the lungs alone, and from the layout of lungs and heart.
LUNG_FLAGS = (
    "no_lungs",
    "one_lung",
    "asymmetric_lungs",
    "implausible_area",
    "irregular_lung_shape",
    "lungs_touch_border",
)
ANATOMY_FLAGS = (
    "no_heart",
    "heart_not_between_lungs",
    "implausible_heart_size",
    "implausible_ctr",
    "ctr_not_measurable",
)
#: Flags raised from the quality score (:mod:`lungseg_monai.transforms.predicted_dice`): a low predicted lung
#: Dice, structures that come from the second network because the two disagreed on the lungs
#: (:mod:`lungseg_monai.transforms.second_opinion`), and a lung base notched beyond any drawn one.
SCORE_FLAGS = ("low_predicted_dice", "second_opinion_lungs", "ragged_lung_base")
#: Flags under which the widths are not a heart's and a thorax's (or a lung base is not to be trusted): the CTR
#: is None and ``ctr_not_measurable`` raised.
_CTR_NOT_MEASURABLE_UNDER = ("no_lungs", "one_lung", "no_heart", "heart_not_between_lungs", *SCORE_FLAGS)


@dataclass
class AnatomyMeasures:
    """Areas, cardiothoracic ratio and quality flags of one film's predicted structures.

    Attributes:
        convention: the lung convention of ``right_lung_*``/``left_lung_*`` and of the mask files.
        right_lung_px, left_lung_px: lung areas in pixels in ``convention`` (right = patient's right).
        right_lung_cm2, left_lung_cm2: the same in cm², None when the pixel spacing is unknown.
        lung_areas: per convention (``anatomical``, ``visible``), the four figures above.
        cardiomediastinum_px, cardiomediastinum_cm2: area of the cardiomediastinal silhouette.
        cardiothoracic_ratio: see :mod:`lungseg_monai.transforms.cardiothoracic`; None (and the flag
            ``ctr_not_measurable``) without a heart or both lungs, or with the heart not between the lungs.
        cardiac_width_px, thoracic_width_px, thoracic_width_row: what the ratio comes from.
        flags: quality flags; empty means the structures look plausible.
        predicted_dice: the lung Dice the quality score predicts (None when the bundle has no score).
        lung_agreement: the lung Dice between the network's and the second network's masks (None without a
            second opinion); below the bundle's switch the structures are the second network's.
        lung_base_gap: how far the network stopped a lung's base above the second network's, as a share of that
            lung's height (the worse lung; None where the bundle does not check it); above the bundle's
            ``second_opinion_base_gap_above`` the structures are the second network's as well.

    """

    convention: str
    right_lung_px: int
    left_lung_px: int
    right_lung_cm2: float | None
    left_lung_cm2: float | None
    lung_areas: dict[str, dict[str, float | int | None]]
    cardiomediastinum_px: int
    cardiomediastinum_cm2: float | None
    cardiothoracic_ratio: float | None
    cardiac_width_px: int
    thoracic_width_px: int
    thoracic_width_row: int | None
    spacing_mm: list[float] | None
    spacing_source: str
    flags: list[str] = field(default_factory=list)
    predicted_dice: float | None = None
    lung_agreement: float | None = None
    lung_base_gap: float | None = None

    @property
    def quality(self) -> str:
        """``"ok"`` or ``"check"`` (at least one flag raised)."""
        return "check" if self.flags else "ok"

    def as_dict(self) -> dict:
        """Return the record as JSON-ready values, with ``quality``."""
        return {**asdict(self), "quality": self.quality}


def _border_share(mask: np.ndarray) -> float:
    border = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
    return float(border.mean())


def solidity(mask: np.ndarray) -> float:
    """Return the area of ``mask`` over that of its convex hull (1 for a convex shape; 0 when empty or flat).

    The hull is that of the first and last pixel of each row: every other pixel lies between the two of its row,
    so the hull is the one of all pixels, from two points a row.
    """
    box = bounding_box(mask)
    if box is None:
        return 0.0
    cropped = mask[box]
    has_pixel, first, last = row_ends(cropped)
    occupied = np.flatnonzero(has_pixel)
    first, last = first[occupied], last[occupied]
    if occupied.size < 2 or first.min() == last.max():
        return 0.0
    points = np.concatenate([np.stack([first, occupied], axis=1), np.stack([last, occupied], axis=1)])
    try:
        hull = ConvexHull(points)
    except QhullError:  # all pixel centres on one line: no area
        return 0.0
    return float(min(1.0, int(np.count_nonzero(cropped)) / max(hull.volume, 1.0)))


def _areas(right: np.ndarray, left: np.ndarray, pixel_cm2: float | None) -> dict[str, float | int | None]:
    right_px, left_px = int(np.count_nonzero(right)), int(np.count_nonzero(left))
    return {
        "right_lung_px": right_px,
        "left_lung_px": left_px,
        "right_lung_cm2": round(right_px * pixel_cm2, 2) if pixel_cm2 else None,
        "left_lung_cm2": round(left_px * pixel_cm2, 2) if pixel_cm2 else None,
    }


def _lung_flags(right: np.ndarray, left: np.ndarray, lungs: np.ndarray) -> list[str]:
    """Return the flags of the lungs alone; ``lungs`` is the union of ``right`` and ``left``."""
    right_px, left_px = int(np.count_nonzero(right)), int(np.count_nonzero(left))
    lung_fraction = (right_px + left_px) / right.size
    flags = []
    if lung_fraction < _MIN_LUNG_FRACTION:
        flags.append("no_lungs")
    elif min(right_px, left_px) < _MIN_SECOND_LUNG_SHARE * max(right_px, left_px):
        flags.append("one_lung")
    elif min(right_px, left_px) < _MIN_LUNG_AREA_RATIO * max(right_px, left_px):
        flags.append("asymmetric_lungs")
    if "no_lungs" not in flags and not _LUNG_FRACTION[0] <= lung_fraction <= _LUNG_FRACTION[1]:
        flags.append("implausible_area")
    if (
        "no_lungs" not in flags
        and "one_lung" not in flags
        and min(solidity(right), solidity(left)) < _MIN_LUNG_SOLIDITY
    ):
        flags.append("irregular_lung_shape")
    if _border_share(lungs) > _MAX_BORDER_SHARE:
        flags.append("lungs_touch_border")
    return flags


def _anatomy_flags(right: np.ndarray, left: np.ndarray, lungs: np.ndarray, heart: np.ndarray) -> list[str]:
    """Return the flags of the layout: the heart present, between the lungs, of a plausible size.

    ``lungs`` is the union of ``right`` and ``left``.
    """
    if np.count_nonzero(heart) < _MIN_HEART_FRACTION * heart.size:
        return ["no_heart"]
    flags = []
    centres = [centre_column(m) for m in (right, left, heart)]
    if None not in centres:
        right_c, left_c, heart_c = centres
        position = (heart_c - right_c) / (left_c - right_c) if left_c > right_c else -1.0
        if not _HEART_POSITION[0] <= position <= _HEART_POSITION[1]:
            flags.append("heart_not_between_lungs")
    lung_px = int(np.count_nonzero(lungs))
    if lung_px and not _HEART_TO_LUNG_AREA[0] <= np.count_nonzero(heart) / lung_px <= _HEART_TO_LUNG_AREA[1]:
        flags.append("implausible_heart_size")
    return flags


def _measurable_ctr(ratio: float | None, flags: list[str]) -> tuple[float | None, list[str]]:
    """Return the CTR to report and its flag: None with ``ctr_not_measurable`` when the structures cannot give one."""
    if ratio is None or any(flag in flags for flag in _CTR_NOT_MEASURABLE_UNDER):
        return None, ["ctr_not_measurable"]
    return ratio, ([] if _CTR_RANGE[0] <= ratio <= _CTR_RANGE[1] else ["implausible_ctr"])


def measure_anatomy(
    structures: np.ndarray,
    spacing_mm: tuple[float, float] | None = None,
    spacing_source: str = "none",
    convention: str = "anatomical",
    score: Mapping[str, Any] | None = None,
) -> AnatomyMeasures:
    """Measure a boolean ``(3, rows, columns)`` structure mask (right lung, left lung, cardiomediastinum).

    Args:
        structures: the predicted masks at the original resolution, anatomical lungs.
        spacing_mm: (row, column) pixel spacing, or None.
        spacing_source: where the spacing came from (``ImagerPixelSpacing`` means uncalibrated).
        convention: the lung convention of the headline areas (``anatomical`` or ``visible``).
        score: the quality score of :class:`~lungseg_monai.transforms.PredictedDiced` (``predicted_dice``,
            ``check_below``, ``second_opinion`` where the bundle has one, ``ragged_lung_base`` where it checks the
            lung bases), or None.

    Returns:
        Areas in both conventions, the CTR and the flags of :data:`LUNG_FLAGS` (on the anatomical lungs),
        :data:`ANATOMY_FLAGS` and :data:`SCORE_FLAGS`, plus ``small_image`` and ``uncalibrated_spacing``.

    """
    pixel_cm2 = spacing_mm[0] * spacing_mm[1] / 100.0 if spacing_mm else None
    lungs = {name: lung_masks(structures, name) for name in CONVENTIONS}
    lung_areas = {name: _areas(*masks, pixel_cm2) for name, masks in lungs.items()}
    right, left = lungs["anatomical"]
    both_lungs = right | left  # the one full-size union of the lungs: the CTR and the flags read it
    heart = np.asarray(structures[CARDIOMEDIASTINUM], dtype=bool)
    ctr = cardiothoracic_ratio_of_lungs(both_lungs, heart)
    flags = _lung_flags(right, left, both_lungs) + _anatomy_flags(right, left, both_lungs, heart)
    if score is not None and calls_for_check(score):
        flags.append("low_predicted_dice")
    if score is not None and second_opinion_used(score):
        flags.append("second_opinion_lungs")
    if score is not None and ragged_lung_base(score) and "no_lungs" not in flags:  # no base to be ragged
        flags.append("ragged_lung_base")
    ratio, ctr_flags = _measurable_ctr(ctr.ratio, flags)
    flags += ctr_flags
    if min(heart.shape) < _MIN_IMAGE_SIDE:
        flags.append("small_image")
    if spacing_source == "ImagerPixelSpacing":
        flags.append("uncalibrated_spacing")
    heart_px = int(np.count_nonzero(heart))
    second_opinion = (score or {}).get("second_opinion") or {}  # as predicted_dice.second_opinion_used reads it
    return AnatomyMeasures(
        convention=convention,
        **lung_areas[convention],
        lung_areas=lung_areas,
        cardiomediastinum_px=heart_px,
        cardiomediastinum_cm2=round(heart_px * pixel_cm2, 2) if pixel_cm2 else None,
        cardiothoracic_ratio=ratio,
        cardiac_width_px=ctr.cardiac_width_px,
        thoracic_width_px=ctr.thoracic_width_px,
        thoracic_width_row=ctr.thoracic_width_row,
        spacing_mm=list(spacing_mm) if spacing_mm else None,
        spacing_source=spacing_source,
        flags=flags,
        predicted_dice=None if score is None else float(score["predicted_dice"]),
        lung_agreement=second_opinion.get("lung_agreement"),
        lung_base_gap=second_opinion.get("base_gap"),
    )
