"""Test-time augmentation by averaging a prediction with that of the mirrored image."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from monai.inferers import Inferer

from lungseg_monai.inferers.batch_meta import plain, with_batch_meta

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
        per_film: run the network on one film at a time, so that a film's output is bit-identical whatever batch
            it came in (oneDNN and cuDNN choose kernels by batch shape; on the 2-core CPU a batch of one differs
            from larger ones in the 6th decimal, which moves a mask by a pixel now and then). Off in the shipped
            ``inference.json``: it costs 20-40% of the network's time (``benchmarks/batch_determinism.py``), and
            masks agree within the bound the README states without it.

    """

    def __init__(
        self,
        spatial_axis: int = 1,
        enabled: bool = True,
        swap_channels: Sequence[int] | None = (0, 1),
        per_film: bool = False,
    ) -> None:
        super().__init__()
        self.per_film = per_film
        self.spatial_axis = spatial_axis
        self.enabled = enabled
        self.swap_channels = tuple(swap_channels) if swap_channels is not None else None

    def __call__(self, inputs: torch.Tensor, network: Callable[..., torch.Tensor], *args: Any, **kwargs: Any):
        """Return ``network(inputs)``, averaged with the un-mirrored ``network(mirror(inputs))`` when enabled."""
        # The network on plain tensors (film by film: slicing a batched MetaTensor would split its metadata), then
        # the batch's metadata on the result, as a pass on the batch gives it.
        films = plain(inputs)
        if not self.per_film or films.shape[0] == 1:
            return with_batch_meta(self._average(films, network, *args, **kwargs), inputs)
        output = torch.cat([self._average(film[None], network, *args, **kwargs) for film in films])
        return with_batch_meta(output, inputs)

    def _average(self, inputs: torch.Tensor, network: Callable[..., torch.Tensor], *args: Any, **kwargs: Any):
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
