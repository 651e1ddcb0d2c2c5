"""Evaluation statistics, figures and reports (usable outside training); the metrics themselves are MONAI's."""

from __future__ import annotations

from lungseg_monai.reports.mask_dice import mask_dice
from lungseg_monai.reports.report_writer import METRIC_NAMES, CaseResult, write_evaluation_report
from lungseg_monai.reports.statistics import RocAccumulator, bootstrap_ci, paired_comparison, summarize
from lungseg_monai.transforms.lung_base import base_shortfall, worse_base_shortfall

__all__ = [
    "METRIC_NAMES",
    "CaseResult",
    "RocAccumulator",
    "base_shortfall",
    "bootstrap_ci",
    "mask_dice",
    "paired_comparison",
    "summarize",
    "worse_base_shortfall",
    "write_evaluation_report",
]
