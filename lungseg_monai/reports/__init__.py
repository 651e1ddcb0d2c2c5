"""Evaluation metrics, statistics, figures and reports (usable outside training)."""

from __future__ import annotations

from lungseg_monai.reports.case_metrics import METRIC_NAMES, case_metrics, confusion_counts, overlap_metrics
from lungseg_monai.reports.report_writer import CaseResult, write_evaluation_report
from lungseg_monai.reports.statistics import RocAccumulator, bootstrap_ci, paired_comparison, summarize

__all__ = [
    "METRIC_NAMES",
    "CaseResult",
    "RocAccumulator",
    "bootstrap_ci",
    "case_metrics",
    "confusion_counts",
    "overlap_metrics",
    "paired_comparison",
    "summarize",
    "write_evaluation_report",
]
