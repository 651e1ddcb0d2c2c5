"""Figures of an evaluation report as PNG bytes: histograms, ROC, training curves, case montages."""

from __future__ import annotations

import io
import itertools
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

__all__ = [
    "png_bytes",
    "metric_histograms",
    "roc_figure",
    "curves_figure",
    "case_montage",
    "paired_figure",
    "predicted_vs_actual_figure",
    "robustness_figure",
    "stress_by_model_figure",
]


def png_bytes(figure: plt.Figure) -> bytes:
    """Render and close a matplotlib figure, returning PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def metric_histograms(per_case: Mapping[str, Sequence[float]]) -> bytes:
    """One histogram per metric, in a grid."""
    names = list(per_case)
    cols = 4
    rows = (len(names) + cols - 1) // cols
    figure, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.8 * rows), squeeze=False)
    for axis, name in zip(axes.ravel(), names, strict=False):
        values = [v for v in per_case[name] if np.isfinite(v)]
        axis.hist(values, bins=15, color="#4477aa")
        axis.set_title(name)
    for axis in axes.ravel()[len(names) :]:
        axis.axis("off")
    figure.tight_layout()
    return png_bytes(figure)


def roc_figure(fpr: np.ndarray, tpr: np.ndarray, auc: float) -> bytes:
    """Pixel-level ROC curve with its AUC."""
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    axis.plot(fpr, tpr, color="#cc3311", label=f"AUC = {auc:.4f}")
    axis.plot([0, 1], [0, 1], color="grey", linestyle=":")
    axis.set_xlabel("false positive rate (pixels)")
    axis.set_ylabel("true positive rate (pixels)")
    axis.legend(loc="lower right")
    return png_bytes(figure)


def curves_figure(curves: Mapping[str, tuple[Sequence[int], Sequence[float]]]) -> bytes:
    """Training curves: losses on the left, Dice on the right."""
    figure, (loss_axis, dice_axis) = plt.subplots(1, 2, figsize=(11, 3.8))
    for tag, (steps, values) in curves.items():
        axis = dice_axis if "dice" in tag.lower() and "loss" not in tag.lower() else loss_axis
        axis.plot(steps, values, label=tag, linewidth=1)
    loss_axis.set_title("training loss")
    loss_axis.set_xlabel("iteration")
    dice_axis.set_title("Dice")
    dice_axis.set_xlabel("epoch")
    for axis in (loss_axis, dice_axis):
        if axis.lines:
            axis.legend(fontsize=7)
    return png_bytes(figure)


def _overlay(grey: np.ndarray, mask: np.ndarray, truth: np.ndarray) -> np.ndarray:
    rgb = np.stack([grey] * 3, axis=-1).astype(np.float32)
    rgb[mask & truth] = 0.5 * rgb[mask & truth] + 0.5 * np.array([60, 200, 60])
    rgb[mask & ~truth] = 0.4 * rgb[mask & ~truth] + 0.6 * np.array([230, 40, 40])
    rgb[~mask & truth] = 0.4 * rgb[~mask & truth] + 0.6 * np.array([40, 90, 230])
    return rgb.astype(np.uint8)


def case_montage(grey: np.ndarray, truth: np.ndarray, pred: np.ndarray, title: str) -> bytes:
    """X-ray | truth | prediction | overlay (green agree, red false positive, blue false negative)."""
    panels = [
        np.stack([grey] * 3, -1),
        np.stack([np.where(truth, 255, 0).astype(np.uint8)] * 3, -1),
        np.stack([np.where(pred, 255, 0).astype(np.uint8)] * 3, -1),
        _overlay(grey, pred, truth),
    ]
    strip = Image.fromarray(np.concatenate(panels, axis=1))
    canvas = Image.new("RGB", (strip.width, strip.height + 18), "white")
    canvas.paste(strip, (0, 18))
    ImageDraw.Draw(canvas).text((4, 3), title, fill="black")
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()


def paired_figure(a: Sequence[float], b: Sequence[float], name_a: str, name_b: str, metric: str) -> bytes:
    """Per-case paired plot: one line per case from model A to model B."""
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    for value_a, value_b in zip(a, b, strict=True):
        axis.plot([0, 1], [value_a, value_b], color="grey", alpha=0.6, marker="o", markersize=3)
    axis.set_xticks([0, 1], [name_a, name_b])
    axis.set_ylabel(metric)
    axis.set_title(f"per-case {metric}")
    return png_bytes(figure)


#: Colour-blind-safe colours (Paul Tol's bright scheme) of the groups of the quality-score figure.
_GROUP_COLOURS = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377")


def predicted_vs_actual_figure(
    groups: Mapping[str, tuple[Sequence[float], Sequence[float]]], threshold: float
) -> bytes:
    """Predicted against actual lung Dice, one colour per group (clean, painted, real dense opacity)."""
    figure, axis = plt.subplots(figsize=(5.5, 5.5))
    low = 1.0
    for (name, (actual, predicted)), colour in zip(groups.items(), _GROUP_COLOURS, strict=False):
        # Smaller groups on top, so that a few clean or real films are not hidden under hundreds of painted ones.
        axis.scatter(actual, predicted, s=14, alpha=0.7, color=colour, label=f"{name} ({len(actual)})",
                     zorder=3 - len(actual) / (1 + len(actual)))  # fmt: skip
        low = min([low, *actual, *predicted])
    low = max(0.0, low - 0.02)
    axis.plot([low, 1], [low, 1], color="grey", linestyle=":", linewidth=1)
    axis.axhline(threshold, color="#cc3311", linewidth=1, label=f"check below {threshold:.4f}")
    axis.axvline(0.90, color="grey", linewidth=1, linestyle="--")
    axis.set_xlim(low, 1)
    axis.set_ylim(low, 1)
    axis.set_xlabel("actual lung Dice")
    axis.set_ylabel("predicted lung Dice (quality score)")
    axis.legend(loc="lower right", fontsize=8)
    return png_bytes(figure)


def robustness_figure(summary: Sequence[Mapping[str, object]], channels: Sequence[str]) -> bytes:
    """Mean Dice against opacity severity, one line per kind, one panel per scored channel."""
    figure, axes = plt.subplots(1, len(channels), figsize=(4.5 * len(channels), 3.8), squeeze=False)
    clean = next(entry for entry in summary if entry["kind"] == "clean")
    kinds = sorted({str(e["kind"]) for e in summary if int(e["severity"]) > 0}, key=lambda k: str(k))
    for axis, channel in zip(axes[0], channels, strict=True):
        for kind, colour in zip(kinds, _GROUP_COLOURS, strict=False):
            points = sorted((int(e["severity"]), e[channel]) for e in summary if e["kind"] == kind)
            severities = [0, *(s for s, _ in points)]
            axis.plot(severities, [clean[channel], *(v for _, v in points)], marker="o", color=colour, label=kind)
        axis.set_title(channel)
        axis.set_xlabel("severity (3: about half of each lung base)")
        axis.set_xticks(range(5))
    axes[0][0].set_ylabel("mean Dice")
    axes[0][0].legend(loc="lower left", fontsize=8)
    figure.tight_layout()
    return png_bytes(figure)


def stress_by_model_figure(rows: Sequence[Mapping[str, object]], value: str = "lungs") -> bytes:
    """Mean Dice (``value``) against opacity severity, one panel per painted kind, one line per model.

    ``rows`` are ``{model, kind, severity, <value>}``, with each model's clean films as kind ``clean`` (severity 0,
    every line's first point); other rows at severity 0 (the real dense-opacity subset) are not drawn.
    """
    models = list(dict.fromkeys(str(row["model"]) for row in rows))
    kinds = list(dict.fromkeys(str(row["kind"]) for row in rows if int(row["severity"]) > 0))
    figure, axes = plt.subplots(1, len(kinds), figsize=(3.6 * len(kinds), 3.6), squeeze=False, sharey=True)
    for axis, kind in zip(axes[0], kinds, strict=True):
        for model, colour in zip(models, itertools.cycle(_GROUP_COLOURS), strict=False):
            clean = [row[value] for row in rows if row["model"] == model and row["kind"] == "clean"]
            points = sorted((int(r["severity"]), r[value]) for r in rows if r["model"] == model and r["kind"] == kind)
            severities = [0] * len(clean) + [severity for severity, _ in points]
            axis.plot(severities, [*clean, *(v for _, v in points)], marker="o", color=colour, label=model)
        axis.set_title(kind)
        axis.set_xlabel("severity")
        axis.set_xticks(range(5))
    axes[0][0].set_ylabel(f"mean Dice ({value})")
    axes[0][0].legend(loc="lower left", fontsize=8)
    figure.tight_layout()
    return png_bytes(figure)
