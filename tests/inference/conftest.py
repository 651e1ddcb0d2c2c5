"""Fixtures shared by the folder-run tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def broken_and_noisy_films(dicom_dir, tmp_path) -> Path:
    """A folder with a truncated JPEG 2000 film (pydicom's decoders log tracebacks) and one with an over-long SH."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(dicom_dir / "pylibjpeg-data" / "966_BROKEN_truncated_j2k.dcm", inputs / "broken.dcm")
    shutil.copy(dicom_dir / "pylibjpeg-data" / "966_fixed.dcm", inputs / "fixed.dcm")
    return inputs
