"""Test-time augmentation by averaging a prediction with that of the mirrored image."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from monai.inferers import Inferer

__all__ = ["FlipAveragingInferer"]


class FlipAveragingInferer(Inferer):
    """Average the network's output on an image and on its left-right mirror (flipped back).

    The mirror of a right lung is a left lung: the mirrored output's ``swap_channels`` (right-lung and left-lung
    channels) are exchanged before averaging. The bundles switch it with ``tta_flip`` (on in the shipped 0.6
    bundles); each retrain re-chooses it on the validation split (``docs/experiments/validation_variants.py``).

    Args:
        spatial_axis: the axis to mirror, counted over spatial dims (1 = columns, left-right).
        enabled: False makes this a plain forward pass, so a config can switch TTA off with one flag.
        swap_channels: the two output channels a mirror exchanges (right and left lung); None for a symmetric label.

    """

    def __init__(
        self, spatial_axis: int = 1, enabled: bool = True, swap_channels: Sequence[int] | None = (0, 1)
    ) -> None:
        super().__init__()
        self.spatial_axis = spatial_axis
        self.enabled = enabled
        self.swap_channels = tuple(swap_channels) if swap_channels is not None else None

    def __call__(self, inputs: torch.Tensor, network: Callable[..., torch.Tensor], *args: Any, **kwargs: Any):
        """Return ``network(inputs)``, averaged with the un-mirrored ``network(mirror(inputs))`` when enabled."""
        output = network(inputs, *args, **kwargs)
        if not self.enabled:
            return output
        dim = 2 + self.spatial_axis
        mirrored = torch.flip(network(torch.flip(inputs, dims=(dim,)), *args, **kwargs), dims=(dim,))
        if self.swap_channels is not None:
            order = list(range(mirrored.shape[1]))
            first, second = self.swap_channels
            order[first], order[second] = second, first
            mirrored = mirrored[:, order]
        return (output + mirrored) / 2.0
