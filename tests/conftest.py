"""Shared fixtures: the real data in ../shared/data and the repository paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from shared_data import CXR, DICOM, REPO

from lungseg_monai.workflows import bundle_workflow

__all__ = ["CXR", "DICOM", "REPO"]


@pytest.fixture(scope="session")
def cxr_dir() -> Path:
    if not CXR.is_dir():
        pytest.fail(f"real data not found at {CXR}; set LUNGSEG_SHARED_DATA")
    return CXR


@pytest.fixture(scope="session")
def dicom_dir() -> Path:
    if not DICOM.is_dir():
        pytest.fail(f"real DICOM files not found at {DICOM}; set LUNGSEG_SHARED_DATA")
    return DICOM


@pytest.fixture(scope="session")
def make_workflow():
    """Return ``make_workflow(bundle, config_name, workflow_type, **overrides)``: an initialised ConfigWorkflow."""
    return bundle_workflow
