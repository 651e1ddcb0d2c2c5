"""Shared fixtures: the real data in ../shared/data and the repository paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from shared_data import CXR, DICOM, REPO

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


def _make_workflow(bundle: str, config: str, workflow_type: str = "train", initialize: bool = True, **override):
    from monai.bundle import ConfigWorkflow

    configs = REPO / "bundles" / bundle / "configs"
    workflow = ConfigWorkflow(
        config_file=config if isinstance(config, list) else str(configs / config),
        meta_file=str(configs / "metadata.json"),
        logging_file=str(configs / "logging.conf"),
        workflow_type=workflow_type,
        **override,
    )
    if initialize:
        workflow.initialize()
    return workflow


@pytest.fixture(scope="session")
def make_workflow():
    """Return ``make_workflow(bundle, config_name, workflow_type, **overrides)``: an initialised ConfigWorkflow."""
    return _make_workflow
