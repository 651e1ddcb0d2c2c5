"""Reading radiographs, discovering datasets and building MONAI datalists."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lungseg_monai.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from lungseg_monai.data.datalist import load_split
    from lungseg_monai.data.dicom_io import DicomRadiograph, is_dicom_file, read_dicom_radiograph
    from lungseg_monai.data.errors import MaskError, RadiographReadError
    from lungseg_monai.data.loader_workers import quiet_worker
    from lungseg_monai.data.radiograph_io import read_radiograph
    from lungseg_monai.data.radiograph_reader import RadiographReader, pixel_spacing

#: Each exported name and the submodule that defines it (imported on first use: ``lungseg-manifest`` reads datasets
#: with numpy, Pillow and pydicom, without torch and MONAI).
_DEFINED_IN = {
    "DicomRadiograph": "dicom_io",
    "MaskError": "errors",
    "RadiographReadError": "errors",
    "RadiographReader": "radiograph_reader",
    "is_dicom_file": "dicom_io",
    "load_split": "datalist",
    "pixel_spacing": "radiograph_reader",
    "quiet_worker": "loader_workers",
    "read_dicom_radiograph": "dicom_io",
    "read_radiograph": "radiograph_io",
}

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

__getattr__, __dir__ = lazy_exports(__name__, _DEFINED_IN)
