"""Reading radiographs, discovering datasets and building MONAI datalists."""

from __future__ import annotations

from lungseg_monai.data.datalist import load_split
from lungseg_monai.data.dicom_io import DicomRadiograph, is_dicom_file, read_dicom_radiograph
from lungseg_monai.data.errors import MaskError, RadiographReadError
from lungseg_monai.data.loader_workers import quiet_worker
from lungseg_monai.data.radiograph_io import read_radiograph
from lungseg_monai.data.radiograph_reader import RadiographReader, pixel_spacing

__all__ = [
    "DicomRadiograph",
    "MaskError",
    "RadiographReadError",
    "RadiographReader",
    "is_dicom_file",
    "load_split",
    "pixel_spacing",
    "quiet_worker",
    "read_dicom_radiograph",
    "read_radiograph",
]
