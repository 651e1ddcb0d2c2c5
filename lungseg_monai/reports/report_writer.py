"""Write an evaluation report folder: per-case CSV, summary JSON, confusion matrix, ROC and HTML."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lungseg_monai.data.atomic_writes import write_atomic, write_csv, write_json
from lungseg_monai.reports.figures import (
    case_montage,
    curves_figure,
    metric_histograms,
    predicted_vs_actual_figure,
    robustness_figure,
    roc_figure,
)
from lungseg_monai.reports.html_report import render_report
from lungseg_monai.reports.opacity_stress import BASE_SHORTFALL, REAL_DENSE, STRESS_SCORED, row_value, stress_summary
from lungseg_monai.reports.statistics import RocAccumulator, quality_score_summary, summarize
from lungseg_monai.reports.training_curves import read_scalar_curves
from lungseg_monai.transforms.lung_base import worse_shortfall
from lungseg_monai.transforms.predicted_dice import QUALITY_FEATURES, marks_check

__all__ = [
    "CaseResult",
    "METRIC_NAMES",
    "StressResult",
    "headline_figures",
    "lower_is_better",
    "write_evaluation_report",
]

#: The headline per-case columns of a report (the anatomical lungs; from MONAI's metrics, see
#: ``lungseg_monai.handlers.report_metrics``). A report adds per-structure columns (``visible_lungs_dice``,
#: ``right_lung_hd95``, ``cardiomediastinum_dice``...), the cardiothoracic ratio (``ctr_*``) and the human
#: reference (``reader2_vs_reader1_dice``, ``model_vs_reader2_dice``) where its data has them.
METRIC_NAMES = ("dice", "iou", "precision", "recall", "specificity", "pixel_accuracy", "hd95", "asd")


def lower_is_better(column: str) -> bool:
    """Whether a smaller value of ``column`` is better (distances, errors and a lung base's shortfall)."""
    return column.endswith(("hd95", "asd", "abs_error", BASE_SHORTFALL))


#: The structures of a report's headline, lungs first: (Dice column, name said).
_HEADLINE_DICE = (
    ("dice", "lungs"),
    ("visible_lungs_dice", "visible lungs"),
    ("right_lung_dice", "right lung"),
    ("left_lung_dice", "left lung"),
    ("cardiomediastinum_dice", "cardiomediastinum"),
)


def _mean(entry: Mapping[str, Any], digits: int = 4) -> str:
    """Return a summary entry's mean as text, or ``n/a`` where no case had a finite value."""
    return f"{entry['mean']:.{digits}f}" if entry.get("n") else "n/a"


def headline_figures(summary: Mapping[str, Any]) -> str:
    """Return a report's headline figures in one line, as ``summary.json`` has them: each structure named.

    The lung Dice (anatomical) first with its 95% CI, then each other structure the report scored, the lungs'
    IoU and HD95 (in the report's unit) and, where the reference has hearts, the cardiothoracic ratio's error.
    """
    metrics = summary["metrics"]
    dice = metrics["dice"]
    lungs = _mean(dice)
    if dice.get("n"):
        lungs += f" (95% CI {dice['ci95'][0]:.4f}-{dice['ci95'][1]:.4f})"
    parts = [f"lungs {lungs}"] + [f"{said} {_mean(metrics[c])}" for c, said in _HEADLINE_DICE[1:] if c in metrics]
    line = f"{summary['cases']} films; mean Dice: {', '.join(parts)}; lungs IoU {_mean(metrics['iou'])}"
    line += f", HD95 {_mean(metrics['hd95'], 1)} {summary['distance_unit']}"
    if "ctr_abs_error" in metrics:
        line += f"; cardiothoracic ratio error {_mean(metrics['ctr_abs_error'])}"
    return line


def _human_reference(cases: list[CaseResult]) -> dict[str, Any] | None:
    """Mean Dice of reader 2 vs reader 1 beside the model's against each, on the cases a second reader drew."""
    drawn = [c for c in cases if np.isfinite(c.metrics.get("reader2_vs_reader1_dice", np.nan))]
    if not drawn:
        return None
    rows = {
        "reader 2 vs reader 1 (human agreement)": [c.metrics["reader2_vs_reader1_dice"] for c in drawn],
        "model vs reader 1 (the reference of this report)": [c.metrics["dice"] for c in drawn],
        "model vs reader 2": [c.metrics["model_vs_reader2_dice"] for c in drawn],
    }
    return {
        "structure": "both lungs, anatomical",
        "cases": [c.name for c in drawn],
        "dice": {name: summarize(values) for name, values in rows.items()},
    }


@dataclass
class CaseResult:
    """One evaluated case: its metrics, pixel counts, small display thumbnails and quality-score features.

    ``features`` (the film's :data:`~lungseg_monai.transforms.predicted_dice.QUALITY_FEATURES` that its score
    computed) go into the stress benchmark's clean rows, as the painted rows carry them, not into the metrics.
    """

    name: str
    metrics: dict[str, float]
    counts: dict[str, int]
    thumbnails: dict[str, np.ndarray] = field(default_factory=dict)
    features: dict[str, float] = field(default_factory=dict)


@dataclass
class StressResult:
    """The opacity stress benchmark of a report: painted films' rows and the real dense-opacity films' names.

    Attributes:
        rows: one per painted film: ``film``, ``kind``, ``severity``, the Dice of ``STRESS_SCORED``,
            ``predicted_dice`` and ``quality`` (None without a quality score).
        dense: the file names of the real dense-opacity films among the cases.

    """

    rows: list[dict[str, Any]]
    dense: set[str] = field(default_factory=set)


def _clean_rows(cases: list[CaseResult], check_below: float | None) -> list[dict[str, Any]]:
    """Return the evaluated cases as rows of the stress benchmark (kind ``clean``, severity 0)."""
    rows = []
    for case in cases:
        score = case.metrics.get("predicted_dice", np.nan)
        scored = check_below is not None and np.isfinite(score)
        row = {"film": case.name, "kind": "clean", "severity": 0}
        for channel in STRESS_SCORED:
            row[channel] = row_value(case.metrics.get("dice" if channel == "lungs" else f"{channel}_dice"))
        sides = (case.metrics.get(f"{side}_{BASE_SHORTFALL}", np.nan) for side in ("right_lung", "left_lung"))
        row[BASE_SHORTFALL] = row_value(worse_shortfall(sides))
        row["predicted_dice"] = round(float(score), 4) if scored else None
        used = case.metrics.get("second_opinion_used") == 1.0
        ragged = case.metrics.get("ragged_lung_base") == 1.0
        checked = scored and marks_check(
            {
                "predicted_dice": score,
                "check_below": check_below,
                "second_opinion": {"used": used},
                "ragged_lung_base": ragged,
            }
        )
        row["quality"] = ("check" if checked else "ok") if scored else None
        row.update(case.features)
        if "lung_agreement" in case.metrics:
            row["lung_agreement"], row["second_opinion_used"] = case.metrics["lung_agreement"], used
        rows.append(row)
    return rows


def _quality_section(
    clean: list[dict[str, Any]], stress: StressResult | None, check_below: float
) -> tuple[dict[str, Any], bytes]:
    """Return the quality score's figures per group of films (clean, painted, real dense) and its scatter plot."""
    groups = {"clean films": clean}
    if stress is not None:
        groups["painted opacities"] = stress.rows
        groups["real dense opacity"] = [row for row in clean if row["film"] in stress.dense]
    groups = {name: [{**row, "dice": row["lungs"]} for row in rows] for name, rows in groups.items() if rows}
    record: dict[str, Any] = {"check_below": check_below, "failure": "lung Dice below 0.90"}
    record.update({name: quality_score_summary(rows) for name, rows in groups.items()})
    if "painted opacities" in groups:
        record["clean and painted"] = quality_score_summary(groups["clean films"] + groups["painted opacities"])
    points = {
        name: ([row["dice"] for row in rows], [row["predicted_dice"] for row in rows]) for name, rows in groups.items()
    }
    return record, predicted_vs_actual_figure(points, check_below)


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
    check_below: float | None = None,
    stress: StressResult | None = None,
) -> dict[str, Any]:
    """Write ``per_case.csv``, ``summary.json``, ``confusion_matrix.json``, ``roc.csv`` and ``report.html``.

    With a quality score (cases with ``predicted_dice``, and ``check_below``) the report adds how well it finds
    films with a lung Dice below 0.90 and a plot of predicted against actual Dice; with a ``stress`` benchmark,
    ``opacity_stress.csv``, its table and robustness curves, and the painted and real dense films in that plot.

    Args:
        output_dir: the report folder.
        cases: per-case results.
        roc: the pixel-level ROC accumulated over the cases.
        facts: model, split and resolution facts for the report header and ``summary.json``.
        tensorboard_dir: training logs whose scalar curves go into the report (skipped when absent).
        check_below: the quality score's threshold (``quality: check`` below it), or None without a score.
        stress: the opacity stress benchmark's painted films, or None.

    Returns:
        The summary written to ``summary.json``.

    """
    output_dir = Path(output_dir)
    if not cases:
        raise ValueError(f"no cases to report in {output_dir}")
    columns = list(cases[0].metrics)
    rows = [{"case": c.name, **c.metrics} for c in cases]
    write_csv(output_dir / "per_case.csv", rows, ["case", *columns])
    per_metric = {name: [c.metrics[name] for c in cases] for name in columns}
    summary = {name: summarize(values, not lower_is_better(name)) for name, values in per_metric.items()}
    totals = {key: int(sum(c.counts[key] for c in cases)) for key in ("tp", "fp", "fn", "tn")}
    fpr, tpr, thresholds = roc.curve()
    auc = roc.auc()
    record = {**facts, "cases": len(cases), "pixel_auc": auc, "metrics": summary}
    human = _human_reference(cases)
    if human is not None:
        record["human_reference"] = human
    images: dict[str, bytes] = {}
    clean = _clean_rows(cases, check_below)
    stress_table = None
    if stress is not None:
        stress_table = stress_summary(clean + stress.rows, stress.dense)
        record["opacity_stress"] = stress_table
        features = [name for name in QUALITY_FEATURES if any(name in row for row in clean + stress.rows)]
        stress_columns = [
            "film", "kind", "severity", *STRESS_SCORED, BASE_SHORTFALL, "predicted_dice", "quality", *features,
            "second_opinion_used",
        ]  # fmt: skip
        write_csv(output_dir / "opacity_stress.csv", clean + stress.rows, stress_columns)
        channels = [c for c in STRESS_SCORED if all(e[c] is not None for e in stress_table if e["kind"] != REAL_DENSE)]
        images["Opacity stress: mean Dice against severity"] = robustness_figure(stress_table, channels)
    if check_below is not None and any(row["predicted_dice"] is not None for row in clean):
        record["quality_score"], images["Quality score: predicted against actual lung Dice"] = _quality_section(
            clean, stress, check_below
        )
    write_json(output_dir / "summary.json", record)
    write_json(output_dir / "confusion_matrix.json", {"pixels": totals, "layout": "both lungs (anatomical) vs rest"})
    roc_rows = [{"threshold": t, "fpr": f, "tpr": r} for t, f, r in zip(thresholds, fpr, tpr, strict=True)]
    write_csv(output_dir / "roc.csv", roc_rows, ["threshold", "fpr", "tpr"])
    headline = {name: per_metric[name] for name in METRIC_NAMES if name in per_metric}
    images = {
        "Metric distributions": metric_histograms(headline),
        "Pixel-level ROC": roc_figure(fpr, tpr, auc),
        **images,
    }
    curves = read_scalar_curves(tensorboard_dir)
    if curves:
        images["Training curves"] = curves_figure(curves)
    tables = {"Per case (click a heading to sort)": rows}
    if "quality_score" in record:
        tables["Quality score: how it sorts the films (failure: lung Dice below 0.90)"] = [
            {"films": name, **values} for name, values in record["quality_score"].items() if isinstance(values, dict)
        ]
    if stress_table is not None:
        tables["Opacity stress: mean and worst Dice per kind and severity (worst: *_min)"] = stress_table
    if human is not None:
        tables["Human reference: second reader, same cases (Dice, both lungs, anatomical)"] = [
            {"comparison": name, **{k: stats.get(k) for k in ("n", "mean", "median", "worst")}}
            for name, stats in human["dice"].items()
        ]
    page = render_report(
        f"Evaluation: {facts.get('model', '')}",
        {**facts, "pixel AUC": auc},
        summary,
        images,
        _montages(cases),
        tables,
    )
    write_atomic(output_dir / "report.html", lambda p: p.write_text(page, encoding="utf-8"))
    return record
