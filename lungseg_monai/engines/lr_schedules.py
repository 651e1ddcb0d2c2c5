"""Learning-rate schedule factors for ``torch.optim.lr_scheduler.LambdaLR``."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["linear_decay"]


def linear_decay(constant_epochs: int, decay_epochs: int) -> Callable[[int], float]:
    """Pix2Pix schedule: factor 1 for ``constant_epochs``, then linearly down to 0 over ``decay_epochs``.

    Example:
        >>> f = linear_decay(100, 100)
        >>> f(0), f(100), f(150)
        (1.0, 1.0, 0.5)

    """
    if constant_epochs < 0 or decay_epochs < 1:
        raise ValueError(f"need constant_epochs >= 0 and decay_epochs >= 1, got {constant_epochs}, {decay_epochs}")

    def factor(epoch: int) -> float:
        return max(0.0, 1.0 - max(0, epoch - constant_epochs) / float(decay_epochs))

    return factor
