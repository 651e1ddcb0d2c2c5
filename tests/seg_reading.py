"""Reading the package's DICOM SEGs with highdicom, whose reader asks for more than the standard does.

PS3.3 C.7.6.16.2.1 (CP 1426) requires SliceThickness in a SEG's Pixel Measures only when the SEG has a Frame of
Reference, which the SEG of a projection radiograph has not; highdicom 0.28's reader
(``PixelMeasuresSequence.from_sequence``) requires it always. :func:`read_seg` adds a placeholder, in memory only,
so that highdicom reads the rest.
"""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import pydicom

#: The placeholder SliceThickness: highdicom only checks that one is there.
PLACEHOLDER_SLICE_THICKNESS = 1


def read_seg(source: str | Path | pydicom.Dataset) -> hd.seg.Segmentation:
    """Return a SEG file (or dataset) as a highdicom ``Segmentation``."""
    dataset = source if isinstance(source, pydicom.Dataset) else pydicom.dcmread(source)
    shared = dataset.SharedFunctionalGroupsSequence[0]
    if "PixelMeasuresSequence" in shared and "SliceThickness" not in shared.PixelMeasuresSequence[0]:
        shared.PixelMeasuresSequence[0].SliceThickness = PLACEHOLDER_SLICE_THICKNESS
    return hd.seg.Segmentation.from_dataset(dataset)
