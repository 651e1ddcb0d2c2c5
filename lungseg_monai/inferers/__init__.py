"""Inferers (MONAI ``Inferer`` subclasses)."""

from __future__ import annotations

from lungseg_monai.inferers.flip_averaging import FlipAveragingInferer

__all__ = ["FlipAveragingInferer"]
