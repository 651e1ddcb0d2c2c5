"""Percentile intensity scaling with both percentiles from one NumPy selection.

MONAI's ``ScaleIntensityRangePercentiles`` computes the lower and the upper percentile apart, and for a tensor of at
most 10^6 elements with ``torch.quantile``, which sorts the whole image each time (MONAI switches to NumPy only
above that size, for pytorch#64947). A radiograph decoded at reduced resolution is about that size
(``docs/experiments/normalisation_costs.py`` times both). ``np.percentile`` with both percentiles selects them
in one partial sort. The scaling then takes MONAI's steps in MONAI's order (subtract, divide, multiply, add,
clip) in place on one new tensor, where MONAI makes a new one per step. The definition of a percentile (linear
interpolation between the closest ranks) and the values are MONAI's.
"""

from __future__ import annotations

import numpy as np
import torch
from monai.config import DtypeLike, KeysCollection, NdarrayOrTensor
from monai.transforms import ScaleIntensityRange, ScaleIntensityRangePercentiles, ScaleIntensityRangePercentilesd
from monai.utils import convert_to_numpy, convert_to_tensor, get_equivalent_dtype

__all__ = ["PercentileRangeScale", "PercentileRangeScaled"]


class PercentileRangeScale(ScaleIntensityRangePercentiles):
    """MONAI's ``ScaleIntensityRangePercentiles``, both percentiles at once and the scaling in place.

    ``relative`` scaling is left to MONAI's code.
    """

    def _normalize(self, img: NdarrayOrTensor) -> NdarrayOrTensor:
        if self.relative:
            return super()._normalize(img)
        low, high = (float(v) for v in np.percentile(convert_to_numpy(img), (self.lower, self.upper)))
        if high == low or self.b_min is None or self.b_max is None:
            # MONAI's edge cases (a flat image, no output range), with its warning
            scale = ScaleIntensityRange(low, high, self.b_min, self.b_max, clip=self.clip, dtype=self.dtype)
            return convert_to_tensor(scale(img), track_meta=False)
        # MONAI's arithmetic, in this order, on one new tensor instead of one per step
        scaled = torch.sub(convert_to_tensor(img, track_meta=False), low).div_(high - low)
        scaled.mul_(self.b_max - self.b_min).add_(self.b_min)
        if self.clip:
            scaled.clamp_(self.b_min, self.b_max)
        return scaled.to(get_equivalent_dtype(self.dtype, torch.Tensor)) if self.dtype is not None else scaled


class PercentileRangeScaled(ScaleIntensityRangePercentilesd):
    """Dictionary form of :class:`PercentileRangeScale`, a drop-in for ``ScaleIntensityRangePercentilesd``."""

    def __init__(
        self,
        keys: KeysCollection,
        lower: float,
        upper: float,
        b_min: float | None,
        b_max: float | None,
        clip: bool = False,
        relative: bool = False,
        channel_wise: bool = False,
        dtype: DtypeLike = np.float32,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, lower, upper, b_min, b_max, clip, relative, channel_wise, dtype, allow_missing_keys)
        self.scaler = PercentileRangeScale(lower, upper, b_min, b_max, clip, relative, channel_wise, dtype)
