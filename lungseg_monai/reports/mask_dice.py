"""Dice of two binary masks by MONAI's ``compute_dice`` (for scripts and checks outside an evaluator)."""

from __future__ import annotations

import numpy as np

__all__ = ["mask_dice"]


def mask_dice(pred: np.ndarray, truth: np.ndarray) -> float:
    """Return the Dice of two same-shape binary masks (1.0 when both are empty).

    Raises:
        ValueError: the shapes differ.

    """
    # torch and MONAI load on the first call: ``lungseg_monai.reports`` imports this module (its function shares the
    # module's name, so the package must hold the function before anything imports the module) and
    # ``lungseg-compare --reports`` needs neither.
    import torch
    from monai.metrics import compute_dice

    if pred.shape != truth.shape:
        raise ValueError(f"prediction is {pred.shape}, reference is {truth.shape}")
    p = torch.as_tensor(np.asarray(pred) > 0, dtype=torch.float32)[None, None]
    t = torch.as_tensor(np.asarray(truth) > 0, dtype=torch.float32)[None, None]
    return float(compute_dice(p, t, include_background=True, ignore_empty=False)[0, 0])
