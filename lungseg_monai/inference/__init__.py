"""Folder inference: robust reading, per-image outputs (PNG, NIfTI, overlay, DICOM SEG, JSON), run summaries."""

from __future__ import annotations

from lungseg_monai.inference.folder_segmenter import FolderSegmenter
from lungseg_monai.inference.lung_measures import LungMeasures, measure_lungs

__all__ = ["FolderSegmenter", "LungMeasures", "measure_lungs"]
