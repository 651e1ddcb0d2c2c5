"""Scale a radiograph's values for display (overlays, montages)."""

from __future__ import annotations

import numpy as np

__all__ = ["display_uint8"]


def display_uint8(pixels: np.ndarray) -> np.ndarray:
    """Scale a radiograph to 8 bits between its 0.5th and 99.5th percentiles."""
    low, high = np.percentile(pixels, [0.5, 99.5])
    scaled = (pixels - low) / max(high - low, 1e-6)
    return (np.clip(scaled, 0, 1) * 255).astype(np.uint8)
