"""Folder inference as a MONAI evaluator: tolerant reading, per-image output handlers, run summaries, ``lungseg``.

The names below are imported on first use (PEP 562), so that ``lungseg --help`` and a mistyped argument are
answered before torch and MONAI load: the command's parser and checks (:mod:`~lungseg_monai.inference.cli`,
:mod:`~lungseg_monai.inference.usage`, ...) import only the standard library and this package's light modules.
A submodule is an attribute as well (``lungseg_monai.inference.exit_codes``), as a bundle config reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lungseg_monai.lazy_exports import lazy_exports

if TYPE_CHECKING:
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

#: Each exported name and the submodule that defines it.
_DEFINED_IN = {
    "AnatomyMeasures": "lung_measures",
    "DicomSegWriter": "output_handlers",
    "FolderEvaluator": "folder_evaluator",
    "FolderPlan": "folder_plan",
    "HeartPngWriter": "output_handlers",
    "LibraryLogFile": "library_log",
    "MaskNiftiWriter": "output_handlers",
    "MaskPngWriter": "output_handlers",
    "OutputProvenance": "provenance",
    "OverlayPngWriter": "output_handlers",
    "RecordWriter": "output_handlers",
    "RunSummaryHandler": "run_summary_handler",
    "Shard": "shards",
    "TolerantDataset": "tolerant_dataset",
    "collate_radiographs": "tolerant_dataset",
    "exit_unless_ok": "exit_codes",
    "file_sha256": "provenance",
    "measure_anatomy": "lung_measures",
}

__all__ = [
    "AnatomyMeasures",
    "DicomSegWriter",
    "FolderEvaluator",
    "FolderPlan",
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


__getattr__, __dir__ = lazy_exports(__name__, _DEFINED_IN)
