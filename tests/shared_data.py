"""Where the tests find the real data (``../shared/data`` beside the checkout, or ``LUNGSEG_SHARED_DATA``)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LUNGSEG_SHARED_DATA", REPO.parent / "shared" / "data"))
CXR = SHARED_DATA / "cxr-lung-lr"
DICOM = SHARED_DATA / "dicom"
SAMPLE = REPO / "sample_data" / "cxr-lung-lr-sample"


def load_radiographs(keys: str | list[str]):
    """``LoadImaged`` with the package's reader, as the bundle configs load radiographs and masks."""
    from monai.transforms import LoadImaged

    from lungseg_monai.data import RadiographReader

    return LoadImaged(keys=keys, reader=RadiographReader(), ensure_channel_first=True, image_only=True)
