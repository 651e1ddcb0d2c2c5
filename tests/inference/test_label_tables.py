"""The NIfTI label map's values and the label tables for 3D Slicer, ITK-SNAP and scripts."""

from __future__ import annotations

import json
import re

import numpy as np

from lungseg_monai.inference.label_tables import LABELS, structure_label_map, write_label_tables


def _chest() -> np.ndarray:
    """Two lung boxes and a heart box that overlaps the inner part of both (as anatomical lungs do)."""
    structures = np.zeros((3, 40, 60), dtype=bool)
    structures[0, 5:35, 5:25] = True  # right lung: the image's left
    structures[1, 5:35, 35:55] = True
    structures[2, 20:38, 20:42] = True
    return structures


def test_anatomical_labels_keep_the_lungs_whole_and_the_heart_outside_them():
    structures = _chest()
    labels = structure_label_map(structures, "anatomical")
    assert labels.dtype == np.uint8 and set(np.unique(labels)) == {0, 1, 2, 3}
    np.testing.assert_array_equal(labels == 1, structures[0])
    np.testing.assert_array_equal(labels == 2, structures[1])
    np.testing.assert_array_equal(labels == 3, structures[2] & ~structures[0] & ~structures[1])


def test_visible_labels_hold_the_whole_heart():
    structures = _chest()
    labels = structure_label_map(structures, "visible")
    np.testing.assert_array_equal(labels == 3, structures[2])
    np.testing.assert_array_equal(labels == 1, structures[0] & ~structures[2])


def test_label_tables_name_every_value_with_its_colour(tmp_path):
    written = write_label_tables(tmp_path)
    assert [p.name for p in written] == ["mask_labels.ctbl", "mask_labels.itksnap.txt", "mask_labels.json"]
    expected = {label.value: (label.name, label.rgb) for label in LABELS}
    # 3D Slicer colour table: "value name R G B A" per line, comments with '#'.
    slicer = {}
    for line in (tmp_path / "mask_labels.ctbl").read_text().splitlines():
        if line.startswith("#"):
            continue
        value, name, red, green, blue, alpha = line.split()
        slicer[int(value)] = (name, (int(red), int(green), int(blue)), int(alpha))
    assert slicer.pop(0)[2] == 0 and {v: (n, rgb) for v, (n, rgb, _) in slicer.items()} == expected
    # ITK-SNAP label descriptions: IDX R G B A VIS MSH "LABEL".
    itksnap = {}
    for line in (tmp_path / "mask_labels.itksnap.txt").read_text().splitlines():
        match = re.fullmatch(r"\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([01])\s+([01])\s+\"([^\"]+)\"", line)
        if match:
            itksnap[int(match[1])] = ((int(match[2]), int(match[3]), int(match[4])), match[8])
    assert itksnap.pop(0)[1] == "Clear Label"
    assert {v: rgb for v, (rgb, _) in itksnap.items()} == {v: rgb for v, (_, rgb) in expected.items()}
    assert json.loads((tmp_path / "mask_labels.json").read_text()) == {str(v): n for v, (n, _) in expected.items()}
    before = {p: p.stat().st_mtime_ns for p in written}
    write_label_tables(tmp_path)  # the same tables again: left as they are
    assert {p: p.stat().st_mtime_ns for p in written} == before
