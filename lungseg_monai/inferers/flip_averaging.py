"""Test-time augmentation by averaging a prediction with that of the mirrored image."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from monai.inferers import Inferer

__all__ = ["FlipAveragingInferer"]


class FlipAveragingInferer(Inferer):
    """Average the network's output on an image and on its left-right mirror (flipped back).

    Only for labels that are symmetric under the flip (the binary lung mask); a left/right label would swap.
    Off in the shipped bundles (``tta_flip: false``): each retrain re-chooses it on the validation split
    (``docs/experiments/validation_variants.py``), so it stays wired in as that one switch.

    Args:
        spatial_axis: the axis to mirror, counted over spatial dims (1 = columns, left-right).
        enabled: False makes this a plain forward pass, so a config can switch TTA off with one flag.

    """

    def __init__(self, spatial_axis: int = 1, enabled: bool = True) -> None:
        super().__init__()
        self.spatial_axis = spatial_axis
        self.enabled = enabled

    def __call__(self, inputs: torch.Tensor, network: Callable[..., torch.Tensor], *args: Any, **kwargs: Any):
        """Return ``network(inputs)``, averaged with the un-mirrored ``network(mirror(inputs))`` when enabled."""
        output = network(inputs, *args, **kwargs)
        if not self.enabled:
            return output
        dim = 2 + self.spatial_axis
        mirrored = network(torch.flip(inputs, dims=(dim,)), *args, **kwargs)
        return (output + torch.flip(mirrored, dims=(dim,))) / 2.0
