"""Inferers (MONAI ``Inferer`` subclasses)."""

from __future__ import annotations

from lungseg_monai.inferers.flip_averaging import FlipAveragingInferer
from lungseg_monai.inferers.second_opinion import SecondOpinionInferer

__all__ = ["FlipAveragingInferer", "SecondOpinionInferer"]
