"""Measure the right and left lung of a binary lung mask and flag implausible masks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from lungseg_monai.transforms.lung_split import split_lungs

__all__ = ["LungMeasures", "measure_lungs"]

#: A second component smaller than this share of the largest is not a lung.
_MIN_SECOND_LUNG_SHARE = 0.15
#: Two lungs whose areas differ more than this ratio (smaller / larger) are implausible.
_MIN_LUNG_AREA_RATIO = 0.5
#: Lungs covering less than this share of the image count as "no lungs".
_MIN_LUNG_FRACTION = 0.02
#: More than this share of the image is not plausible for both lungs of a chest film.
_MAX_LUNG_FRACTION = 0.75
#: Share of the image border covered by the mask above which the lungs "touch the border".
_MAX_BORDER_SHARE = 0.05
#: Images smaller than this (pixels, shorter side) are thumbnails, not diagnostic radiographs.
_MIN_IMAGE_SIDE = 256


@dataclass
class LungMeasures:
    """Areas of both lungs and quality flags for one predicted mask.

    Attributes:
        right_lung_px, left_lung_px: areas in pixels (right lung = patient's right, image left on a PA film).
        right_lung_cm2, left_lung_cm2: areas in cm², None when the pixel spacing is unknown.
        flags: quality flags; empty means the mask looks plausible.

    """

    right_lung_px: int
    left_lung_px: int
    right_lung_cm2: float | None
    left_lung_cm2: float | None
    spacing_mm: list[float] | None
    spacing_source: str
    flags: list[str] = field(default_factory=list)

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


def measure_lungs(
    mask: np.ndarray, spacing_mm: tuple[float, float] | None = None, spacing_source: str = "none"
) -> LungMeasures:
    """Measure a binary ``(rows, columns)`` lung mask at the original resolution.

    Args:
        mask: the predicted mask, non-zero = lung.
        spacing_mm: (row, column) pixel spacing, or None.
        spacing_source: where the spacing came from (``ImagerPixelSpacing`` means uncalibrated).

    Returns:
        Per-lung areas and flags: ``no_lungs``, ``one_lung``, ``asymmetric_lungs``, ``lungs_touch_border``,
        ``implausible_area``, ``small_image``, ``uncalibrated_spacing``.

    """
    right, left = split_lungs(mask)
    right_px, left_px = int(right.sum()), int(left.sum())
    pixel_cm2 = spacing_mm[0] * spacing_mm[1] / 100.0 if spacing_mm else None
    flags = []
    lung_fraction = (right_px + left_px) / mask.size
    if lung_fraction < _MIN_LUNG_FRACTION:
        flags.append("no_lungs")
    elif min(right_px, left_px) < _MIN_SECOND_LUNG_SHARE * max(right_px, left_px):
        flags.append("one_lung")
    elif min(right_px, left_px) < _MIN_LUNG_AREA_RATIO * max(right_px, left_px):
        flags.append("asymmetric_lungs")
    if lung_fraction > _MAX_LUNG_FRACTION:
        flags.append("implausible_area")
    if _border_share(mask > 0) > _MAX_BORDER_SHARE:
        flags.append("lungs_touch_border")
    if min(mask.shape) < _MIN_IMAGE_SIDE:
        flags.append("small_image")
    if spacing_source == "ImagerPixelSpacing":
        flags.append("uncalibrated_spacing")
    return LungMeasures(
        right_lung_px=right_px,
        left_lung_px=left_px,
        right_lung_cm2=round(right_px * pixel_cm2, 2) if pixel_cm2 else None,
        left_lung_cm2=round(left_px * pixel_cm2, 2) if pixel_cm2 else None,
        spacing_mm=list(spacing_mm) if spacing_mm else None,
        spacing_source=spacing_source,
        flags=flags,
    )
