"""The label map of a folder run's NIfTI outputs and the label tables that 3D Slicer and ITK-SNAP read.

``<name>.mask.nii.gz`` holds one label per pixel: 1 right lung, 2 left lung (in the run's lung convention) and 3 the
cardiomediastinum where it is not lung. In the visible convention the lungs stop at the heart border, so label 3 is
the whole cardiomediastinum; in the anatomical convention the lungs go on behind the heart and keep those pixels
(a label map holds one label per pixel), so label 3 is the part of the cardiomediastinum outside the lungs. The
whole cardiomediastinum is always in ``<name>.heart.png`` and in the DICOM SEG, whose segments may overlap.

The tables go once into the output folder: ``mask_labels.ctbl`` (a 3D Slicer colour table: load it, then choose it
as the label map's colour node), ``mask_labels.itksnap.txt`` (ITK-SNAP: Segmentation > Import Label Descriptions)
and ``mask_labels.json`` (name per value, as TotalSegmentator's label maps are described). Colours are the
Okabe-Ito palette, distinguishable with the common colour-vision deficiencies; the overlays use the same ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lungseg_monai.data.atomic_writes import write_atomic
from lungseg_monai.transforms.structures import CARDIOMEDIASTINUM, lung_masks

__all__ = ["LABELS", "Label", "structure_label_map", "write_label_tables"]


@dataclass(frozen=True)
class Label:
    """One value of the label map: its name, what a viewer shows, and its colour (8-bit RGB)."""

    value: int
    name: str
    title: str
    rgb: tuple[int, int, int]


#: The label map's values (0 is background).
LABELS = (
    Label(1, "right_lung", "Right lung", (230, 159, 0)),  # Okabe-Ito orange
    Label(2, "left_lung", "Left lung", (86, 180, 233)),  # sky blue
    Label(3, "cardiomediastinum", "Cardiomediastinum", (0, 158, 115)),  # bluish green
)


def structure_label_map(structures: np.ndarray, convention: str) -> np.ndarray:
    """Return a ``(3, rows, columns)`` structure mask as the label map of :data:`LABELS` (``uint8``)."""
    right, left = lung_masks(structures, convention)
    labels = np.where(np.asarray(structures[CARDIOMEDIASTINUM], dtype=bool), np.uint8(3), np.uint8(0))
    labels[right] = 1
    labels[left] = 2
    return labels


def _slicer_colour_table() -> str:
    lines = ["# 3D Slicer colour table of lungseg_monai's <name>.mask.nii.gz", "0 background 0 0 0 0"]
    lines += [f"{label.value} {label.name} {' '.join(map(str, label.rgb))} 255" for label in LABELS]
    return "\n".join(lines) + "\n"


def _itksnap_label_descriptions() -> str:
    lines = ["# ITK-SNAP label descriptions of lungseg_monai's <name>.mask.nii.gz",
             "# IDX -R- -G- -B- -A-- VIS MSH LABEL", '    0   0   0   0    0   0   0 "Clear Label"']  # fmt: skip
    for label in LABELS:
        red, green, blue = label.rgb
        lines.append(f'{label.value:5d} {red:3d} {green:3d} {blue:3d}    1   1   1 "{label.title}"')
    return "\n".join(lines) + "\n"


def write_label_tables(output_dir: str | Path) -> list[Path]:
    """Write the three label tables into ``output_dir`` (atomically; the same bytes every time)."""
    tables = {
        "mask_labels.ctbl": _slicer_colour_table(),
        "mask_labels.itksnap.txt": _itksnap_label_descriptions(),
        "mask_labels.json": json.dumps({str(label.value): label.name for label in LABELS}, indent=2) + "\n",
    }
    written = []
    for name, text in tables.items():
        target = Path(output_dir) / name
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            write_atomic(target, lambda path, text=text: path.write_text(text, encoding="utf-8"))
        written.append(target)
    return written
