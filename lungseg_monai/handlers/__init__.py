"""Ignite/MONAI handlers that fill gaps in MONAI's own set."""

from __future__ import annotations

from lungseg_monai.handlers.atomic_checkpoints import AtomicCheckpointSaver
from lungseg_monai.handlers.checkpoint_pruning import PruneCheckpoints
from lungseg_monai.handlers.early_stopping_state import EarlyStoppingState
from lungseg_monai.handlers.evaluation_report import EvaluationReportHandler
from lungseg_monai.handlers.key_metric_state import KeyMetricState
from lungseg_monai.handlers.opacity_stress import OpacityStressBenchmark
from lungseg_monai.handlers.output_transforms import scalars_from_engine
from lungseg_monai.handlers.report_metrics import (
    SpacedHausdorffDistance,
    SpacedSurfaceDistance,
    lungs_dice_metric,
    report_metrics,
)
from lungseg_monai.handlers.resume import ResumeFromLatestCheckpoint, checkpoint_mismatch, latest_checkpoints
from lungseg_monai.handlers.training_interrupt import EvaluationInterrupted, TrainingInterrupted
from lungseg_monai.handlers.training_overview import TrainingOverview

__all__ = [
    "AtomicCheckpointSaver",
    "EarlyStoppingState",
    "EvaluationInterrupted",
    "EvaluationReportHandler",
    "KeyMetricState",
    "OpacityStressBenchmark",
    "PruneCheckpoints",
    "ResumeFromLatestCheckpoint",
    "SpacedHausdorffDistance",
    "SpacedSurfaceDistance",
    "TrainingInterrupted",
    "TrainingOverview",
    "checkpoint_mismatch",
    "latest_checkpoints",
    "lungs_dice_metric",
    "report_metrics",
    "scalars_from_engine",
]
