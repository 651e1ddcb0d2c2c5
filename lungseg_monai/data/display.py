"""Scale a radiograph's values for display (overlays, montages)."""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["display_uint8"]

#: Pixels that the display percentiles are estimated from, at most (an even grid over the film).
PERCENTILE_SAMPLE = 1 << 18


def display_uint8(pixels: np.ndarray | torch.Tensor) -> np.ndarray:
    """Scale a radiograph to 8 bits between its 0.5th and 99.5th percentiles.

    The percentiles come from an even grid of at most :data:`PERCENTILE_SAMPLE` pixels (a 1024 px preview has
    four times as many): display levels need no more, and selecting among every pixel is a cost on each overlay.
    """
    pixels = np.asarray(pixels)
    step = max(1, math.isqrt(pixels.size // PERCENTILE_SAMPLE))
    sample = pixels[(slice(None, None, step),) * pixels.ndim]
    low, high = np.percentile(sample, [0.5, 99.5])
    scaled = (pixels.astype(np.float32, copy=False) - np.float32(low)) * np.float32(255 / max(high - low, 1e-6))
    return np.clip(scaled, 0, 255).astype(np.uint8)
