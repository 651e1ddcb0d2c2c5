"""Per-case segmentation metrics of a binary lung mask against its reference, at the original resolution."""

from __future__ import annotations

import numpy as np
import torch
from monai.metrics import compute_average_surface_distance, compute_hausdorff_distance

from lungseg_monai.transforms.lung_split import split_lungs

__all__ = ["confusion_counts", "overlap_metrics", "surface_metrics", "case_metrics", "METRIC_NAMES"]

METRIC_NAMES = (
    "dice",
    "iou",
    "precision",
    "recall",
    "specificity",
    "pixel_accuracy",
    "hd95",
    "asd",
    "right_lung_dice",
    "left_lung_dice",
)


def confusion_counts(pred: np.ndarray, truth: np.ndarray) -> dict[str, int]:
    """Return pixel counts ``tp``, ``fp``, ``fn``, ``tn`` of two binary masks."""
    pred, truth = pred.astype(bool), truth.astype(bool)
    return {
        "tp": int(np.sum(pred & truth)),
        "fp": int(np.sum(pred & ~truth)),
        "fn": int(np.sum(~pred & truth)),
        "tn": int(np.sum(~pred & ~truth)),
    }


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def overlap_metrics(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Dice, IoU, precision, recall, specificity and pixel accuracy; both masks empty gives Dice = IoU = 1."""
    c = confusion_counts(pred, truth)
    both_empty = c["tp"] + c["fp"] + c["fn"] == 0
    return {
        "dice": 1.0 if both_empty else _ratio(2 * c["tp"], 2 * c["tp"] + c["fp"] + c["fn"]),
        "iou": 1.0 if both_empty else _ratio(c["tp"], c["tp"] + c["fp"] + c["fn"]),
        "precision": _ratio(c["tp"], c["tp"] + c["fp"]),
        "recall": _ratio(c["tp"], c["tp"] + c["fn"]),
        "specificity": _ratio(c["tn"], c["tn"] + c["fp"]),
        "pixel_accuracy": _ratio(c["tp"] + c["tn"], sum(c.values())),
    }


def surface_metrics(
    pred: np.ndarray, truth: np.ndarray, spacing: tuple[float, float] | None = None
) -> dict[str, float]:
    """95th-percentile Hausdorff and symmetric average surface distance (pixels, or mm with ``spacing``)."""
    if not pred.any() or not truth.any():
        return {"hd95": float("nan"), "asd": float("nan")}
    p = torch.as_tensor(pred.astype(np.float32))[None, None]
    t = torch.as_tensor(truth.astype(np.float32))[None, None]
    hd95 = compute_hausdorff_distance(p, t, include_background=True, percentile=95, spacing=spacing)
    asd = compute_average_surface_distance(p, t, include_background=True, symmetric=True, spacing=spacing)
    return {"hd95": float(hd95), "asd": float(asd)}


def case_metrics(pred: np.ndarray, truth: np.ndarray, spacing: tuple[float, float] | None = None) -> dict[str, float]:
    """All of :data:`METRIC_NAMES` for one case; per-lung Dice pairs the two largest components by side.

    Args:
        pred: binary predicted mask, ``(rows, columns)``.
        truth: binary reference mask, same shape.
        spacing: pixel spacing in mm for the distances; None reports them in pixels.

    Raises:
        ValueError: the shapes differ.

    """
    if pred.shape != truth.shape:
        raise ValueError(f"prediction is {pred.shape}, reference is {truth.shape}")
    metrics = {**overlap_metrics(pred, truth), **surface_metrics(pred > 0, truth > 0, spacing)}
    for side, p, t in zip(("right", "left"), split_lungs(pred), split_lungs(truth), strict=True):
        metrics[f"{side}_lung_dice"] = overlap_metrics(p, t)["dice"]
    return metrics
