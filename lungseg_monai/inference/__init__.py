"""Folder inference as a MONAI evaluator: tolerant reading, per-image output handlers, run summaries, ``lungseg``."""

from __future__ import annotations

from lungseg_monai.inference.exit_codes import exit_unless_ok
from lungseg_monai.inference.folder_evaluator import FolderEvaluator
from lungseg_monai.inference.folder_plan import FolderPlan
from lungseg_monai.inference.library_log import LibraryLogFile
from lungseg_monai.inference.lung_measures import AnatomyMeasures, measure_anatomy
from lungseg_monai.inference.output_handlers import (
    DicomSegWriter,
    HeartPngWriter,
    MaskNiftiWriter,
    MaskPngWriter,
    OverlayPngWriter,
    RecordWriter,
)
from lungseg_monai.inference.provenance import OutputProvenance, file_sha256
from lungseg_monai.inference.run_summary_handler import RunSummaryHandler
from lungseg_monai.inference.shards import Shard
from lungseg_monai.inference.tolerant_dataset import TolerantDataset, collate_radiographs

__all__ = [
    "DicomSegWriter",
    "FolderEvaluator",
    "FolderPlan",
    "AnatomyMeasures",
    "HeartPngWriter",
    "LibraryLogFile",
    "MaskNiftiWriter",
    "MaskPngWriter",
    "OutputProvenance",
    "OverlayPngWriter",
    "RecordWriter",
    "RunSummaryHandler",
    "Shard",
    "TolerantDataset",
    "collate_radiographs",
    "exit_unless_ok",
    "file_sha256",
    "measure_anatomy",
]
