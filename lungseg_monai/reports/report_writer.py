"""Write an evaluation report folder: per-case CSV, summary JSON, confusion matrix, ROC and HTML."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lungseg_monai.data.atomic_writes import write_atomic, write_csv, write_json
from lungseg_monai.reports.figures import case_montage, curves_figure, metric_histograms, roc_figure
from lungseg_monai.reports.html_report import render_report
from lungseg_monai.reports.statistics import RocAccumulator, summarize
from lungseg_monai.reports.training_curves import read_scalar_curves

__all__ = ["CaseResult", "METRIC_NAMES", "write_evaluation_report"]

#: The per-case columns of a report (from MONAI's metrics, see ``lungseg_monai.handlers.report_metrics``).
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

_LOWER_IS_BETTER = {"hd95", "asd"}


@dataclass
class CaseResult:
    """One evaluated case: its metrics, pixel counts and small display thumbnails."""

    name: str
    metrics: dict[str, float]
    counts: dict[str, int]
    thumbnails: dict[str, np.ndarray] = field(default_factory=dict)


def _montages(cases: list[CaseResult]) -> dict[str, bytes]:
    ranked = sorted(cases, key=lambda c: c.metrics["dice"])
    picks = {"worst": ranked[0], "median": ranked[len(ranked) // 2], "best": ranked[-1]}
    return {
        f"{label}: {case.name} (Dice {case.metrics['dice']:.4f})": case_montage(
            case.thumbnails["image"], case.thumbnails["truth"], case.thumbnails["pred"], case.name
        )
        for label, case in picks.items()
        if case.thumbnails
    }


def write_evaluation_report(
    output_dir: str | Path,
    cases: list[CaseResult],
    roc: RocAccumulator,
    facts: Mapping[str, Any],
    tensorboard_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Write ``per_case.csv``, ``summary.json``, ``confusion_matrix.json``, ``roc.csv`` and ``report.html``.

    Args:
        output_dir: the report folder.
        cases: per-case results.
        roc: the pixel-level ROC accumulated over the cases.
        facts: model, split and resolution facts for the report header and ``summary.json``.
        tensorboard_dir: training logs whose scalar curves go into the report (skipped when absent).

    Returns:
        The summary written to ``summary.json``.

    """
    output_dir = Path(output_dir)
    if not cases:
        raise ValueError(f"no cases to report in {output_dir}")
    rows = [{"case": c.name, **c.metrics} for c in cases]
    write_csv(output_dir / "per_case.csv", rows, ["case", *METRIC_NAMES])
    per_metric = {name: [c.metrics[name] for c in cases] for name in METRIC_NAMES}
    summary = {name: summarize(values, name not in _LOWER_IS_BETTER) for name, values in per_metric.items()}
    totals = {key: int(sum(c.counts[key] for c in cases)) for key in ("tp", "fp", "fn", "tn")}
    fpr, tpr, thresholds = roc.curve()
    auc = roc.auc()
    record = {**facts, "cases": len(cases), "pixel_auc": auc, "metrics": summary}
    write_json(output_dir / "summary.json", record)
    write_json(output_dir / "confusion_matrix.json", {"pixels": totals, "layout": "binary lung vs background"})
    roc_rows = [{"threshold": t, "fpr": f, "tpr": r} for t, f, r in zip(thresholds, fpr, tpr, strict=True)]
    write_csv(output_dir / "roc.csv", roc_rows, ["threshold", "fpr", "tpr"])
    images = {"Metric distributions": metric_histograms(per_metric), "Pixel-level ROC": roc_figure(fpr, tpr, auc)}
    curves = read_scalar_curves(tensorboard_dir)
    if curves:
        images["Training curves"] = curves_figure(curves)
    page = render_report(
        f"Evaluation: {facts.get('model', '')}", {**facts, "pixel AUC": auc}, summary, images, _montages(cases)
    )
    write_atomic(output_dir / "report.html", lambda p: p.write_text(page, encoding="utf-8"))
    return record
