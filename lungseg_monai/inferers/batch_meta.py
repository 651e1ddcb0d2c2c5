"""Run networks on plain tensors and put the batch's metadata back on their output, once."""

from __future__ import annotations

import torch
from monai.data import MetaTensor

__all__ = ["plain", "with_batch_meta"]


def plain(inputs: torch.Tensor) -> torch.Tensor:
    """Return a batch as a plain tensor (the same storage).

    A network run on a ``MetaTensor`` carries the batch's metadata through each of its operations, a cost in every
    one of them; the metadata of the output are the input's either way (:func:`with_batch_meta`).
    """
    return inputs.as_tensor() if isinstance(inputs, MetaTensor) else inputs


def with_batch_meta(output: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Return ``output`` with the metadata of the batch ``inputs``, as a pass of the network on ``inputs`` gives it."""
    if not isinstance(inputs, MetaTensor):
        return output
    output = MetaTensor(output)
    output.copy_meta_from(inputs, copy_attr=True)
    output.is_batch = inputs.is_batch
    return output
