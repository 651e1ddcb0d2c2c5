"""Summary statistics, bootstrap confidence intervals, pixel-level ROC and paired tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

__all__ = ["summarize", "bootstrap_ci", "RocAccumulator", "paired_comparison", "rank_auroc", "quality_score_summary"]


def bootstrap_ci(values: Sequence[float], level: float = 0.95, resamples: int = 2000, seed: int = 0) -> list[float]:
    """Percentile bootstrap confidence interval of the mean (seeded, so reports are reproducible)."""
    data = np.asarray([v for v in values if np.isfinite(v)], dtype=np.float64)
    if data.size == 0:
        return [float("nan"), float("nan")]
    rng = np.random.default_rng(seed)
    means = rng.choice(data, size=(resamples, data.size), replace=True).mean(axis=1)
    tail = (1.0 - level) / 2.0 * 100
    return [float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))]


def summarize(values: Sequence[float], higher_is_better: bool = True) -> dict[str, float | list[float] | int]:
    """Mean, median, std, worst, best, n and the 95% bootstrap CI of the mean (NaNs left out)."""
    data = np.asarray([v for v in values if np.isfinite(v)], dtype=np.float64)
    if data.size == 0:
        return {"n": 0}
    worst, best = (data.min(), data.max()) if higher_is_better else (data.max(), data.min())
    return {
        "n": int(data.size),
        "mean": float(data.mean()),
        "median": float(np.median(data)),
        "std": float(data.std(ddof=1)) if data.size > 1 else 0.0,
        "worst": float(worst),
        "best": float(best),
        "ci95": bootstrap_ci(data),
    }


class RocAccumulator:
    """Pixel-level ROC from probabilities, accumulated case by case in fixed bins (memory independent of size).

    Args:
        bins: number of probability bins in [0, 1].

    """

    def __init__(self, bins: int = 1000) -> None:
        self.edges = np.linspace(0.0, 1.0, bins + 1)
        self.positives = np.zeros(bins, dtype=np.int64)
        self.negatives = np.zeros(bins, dtype=np.int64)

    def update(self, probabilities: np.ndarray, truth: np.ndarray) -> None:
        """Add one case's probabilities and binary reference."""
        truth = truth.astype(bool)
        self.positives += np.histogram(probabilities[truth], bins=self.edges)[0]
        self.negatives += np.histogram(probabilities[~truth], bins=self.edges)[0]

    def curve(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (false positive rate, true positive rate, thresholds), thresholds descending."""
        tp = np.concatenate([[0], np.cumsum(self.positives[::-1])])
        fp = np.concatenate([[0], np.cumsum(self.negatives[::-1])])
        tpr = tp / max(tp[-1], 1)
        fpr = fp / max(fp[-1], 1)
        return fpr, tpr, self.edges[::-1]

    def auc(self) -> float:
        """Area under the ROC curve (trapezoidal over the bins)."""
        fpr, tpr, _ = self.curve()
        return float(np.trapezoid(tpr, fpr))


def paired_comparison(a: Sequence[float], b: Sequence[float]) -> dict[str, float]:
    """Compare paired per-case values of two models: mean difference (a - b), its CI, Wilcoxon and t-test p."""
    a_arr, b_arr = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a_arr.shape != b_arr.shape or a_arr.size < 2:
        raise ValueError(f"need two paired samples of the same length >= 2, got {a_arr.size} and {b_arr.size}")
    diff = a_arr - b_arr
    wilcoxon_p = float(stats.wilcoxon(a_arr, b_arr).pvalue) if np.any(diff != 0) else 1.0
    return {
        "n": int(diff.size),
        "mean_difference": float(diff.mean()),
        "ci95_difference": bootstrap_ci(diff),
        "wilcoxon_p": wilcoxon_p,
        "paired_t_p": float(stats.ttest_rel(a_arr, b_arr).pvalue) if np.any(diff != 0) else 1.0,
    }


def rank_auroc(scores: Sequence[float], positive: Sequence[bool]) -> float | None:
    """Return the AUROC of ``scores`` for finding ``positive`` (ties count half); None without both classes."""
    scores, positive = np.asarray(scores, dtype=float), np.asarray(positive, dtype=bool)
    if positive.all() or not positive.any():
        return None
    pairs = positive.sum() * (~positive).sum()
    return float(stats.mannwhitneyu(scores[positive], scores[~positive]).statistic / pairs)


def quality_score_summary(rows: Sequence[dict], failure_below: float = 0.90) -> dict[str, object] | None:
    """How a per-film quality score sorts films: rows with ``dice``, ``predicted_dice`` and ``quality``.

    Returns the AUROC of ``1 - predicted_dice`` for finding films with a Dice below ``failure_below``, the mean
    absolute error of the prediction, and the films the score lets pass (``quality`` ok) or holds back; None when no
    row has a score.
    """
    rows = [row for row in rows if row.get("predicted_dice") is not None]
    if not rows:
        return None
    dice = np.array([row["dice"] for row in rows])
    predicted = np.array([row["predicted_dice"] for row in rows])
    check = np.array([row["quality"] == "check" for row in rows])
    failed = dice < failure_below
    auroc = rank_auroc(1.0 - predicted, failed)
    return {
        "films": len(rows),
        f"auroc_for_dice_below_{failure_below:.2f}": None if auroc is None else round(auroc, 4),
        "mean_abs_error": round(float(np.mean(np.abs(predicted - dice))), 4),
        f"below_{failure_below:.2f}_marked_check": f"{int((failed & check).sum())} of {int(failed.sum())}",
        f"at_least_{failure_below:.2f}_marked_check": f"{int((~failed & check).sum())} of {int((~failed).sum())}",
        "below_0.85_marked_ok": int(((dice < 0.85) & ~check).sum()),
    }
