"""Evaluation statistics, figures and reports (usable outside training); the metrics themselves are MONAI's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lungseg_monai.lazy_exports import lazy_exports
from lungseg_monai.reports.mask_dice import mask_dice  # at once: the function is named as its module (see there)

if TYPE_CHECKING:
    from lungseg_monai.reports.report_writer import METRIC_NAMES, CaseResult, write_evaluation_report
    from lungseg_monai.reports.statistics import RocAccumulator, bootstrap_ci, paired_comparison, summarize
    from lungseg_monai.transforms.lung_base import base_shortfall, worse_base_shortfall

#: Each exported name and the module that defines it (imported on first use: ``lungseg-compare`` of report folders
#: needs numpy, SciPy and matplotlib, not torch and MONAI).
_DEFINED_IN = {
    "METRIC_NAMES": "report_writer",
    "CaseResult": "report_writer",
    "RocAccumulator": "statistics",
    "base_shortfall": "lungseg_monai.transforms.lung_base",
    "bootstrap_ci": "statistics",
    "paired_comparison": "statistics",
    "summarize": "statistics",
    "worse_base_shortfall": "lungseg_monai.transforms.lung_base",
    "write_evaluation_report": "report_writer",
}

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

__getattr__, __dir__ = lazy_exports(__name__, _DEFINED_IN)
