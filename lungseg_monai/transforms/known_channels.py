"""Losses over the label channels a dataset annotates (the others hold :data:`~.structures.UNKNOWN`)."""

from __future__ import annotations

import torch
from monai.losses import DiceLoss

__all__ = ["known_channels", "fill_unknown_channels", "KnownChannelsDiceCELoss"]


def known_channels(label: torch.Tensor) -> torch.Tensor:
    """Return a ``(batch, channels)`` boolean tensor: True where the channel is annotated (no negative value)."""
    return label.flatten(2).amin(dim=2) >= 0


def fill_unknown_channels(label: torch.Tensor, stand_in: torch.Tensor) -> torch.Tensor:
    """Replace each unannotated channel of ``label`` with the same channel of ``stand_in`` (e.g. the prediction).

    The Pix2Pix generator is then neither pulled towards nor judged on a structure nobody drew.
    """
    known = known_channels(label)[..., None, None].expand_as(label)
    return torch.where(known, label, stand_in.to(label.dtype))


class KnownChannelsDiceCELoss(torch.nn.Module):
    """Dice + binary cross-entropy on sigmoid logits, averaged over the annotated (sample, channel) pairs only.

    Equal to MONAI's ``DiceCELoss(sigmoid=True)`` (per-channel Dice, mean BCE) when every channel is annotated.

    Args:
        lambda_dice: weight of the Dice term (0 leaves it out).
        lambda_ce: weight of the cross-entropy term (0 leaves it out).
        squared_pred: square the prediction in the Dice denominator (as MONAI's ``DiceLoss``).

    """

    def __init__(self, lambda_dice: float = 1.0, lambda_ce: float = 1.0, squared_pred: bool = True) -> None:
        super().__init__()
        self.lambda_dice, self.lambda_ce = lambda_dice, lambda_ce
        self.dice = DiceLoss(sigmoid=True, squared_pred=squared_pred, reduction="none")

    def forward(self, logits: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        """Return the loss of ``logits`` against ``label`` over its annotated channels (0 when there are none)."""
        weights = known_channels(label).to(logits.dtype)
        target = label.clamp(min=0.0)
        loss = torch.zeros((), dtype=logits.dtype, device=logits.device)
        if self.lambda_dice:
            loss = loss + self.lambda_dice * self.dice(logits, target).flatten(2).mean(dim=2)
        if self.lambda_ce:
            bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
            loss = loss + self.lambda_ce * bce.flatten(2).mean(dim=2)
        return (loss * weights).sum() / weights.sum().clamp(min=1.0)
