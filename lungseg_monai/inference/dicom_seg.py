"""Write a predicted lung mask as a DICOM Segmentation object (highdicom) referencing its source image."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from pydicom import config
from pydicom.sr.codedict import codes
from pydicom.valuerep import validate_value

from lungseg_monai.data.atomic_writes import atomic_path

__all__ = ["write_dicom_seg"]

logger = logging.getLogger(__name__)


#: Type 2 attributes a SEG copies from its source; old files without them get them empty, as DICOM allows.
_TYPE2_PATIENT_STUDY = (
    "PatientID",
    "PatientName",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "StudyID",
    "AccessionNumber",
    "ReferringPhysicianName",
)


#: Text VRs whose values must stay within the character repertoire the source declares.
_TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UT"}


def _is_valid(element: pydicom.DataElement, default_repertoire: bool) -> bool:
    """Return True when ``element``'s value is valid for its VR (and, without a character set, plain ASCII)."""
    values = element.value if element.VM > 1 else [element.value]
    try:
        for value in values:
            if default_repertoire and element.VR in _TEXT_VRS and not str(value).isascii():
                return False
            validate_value(element.VR, value, config.RAISE)
    except (ValueError, TypeError):
        return False
    return True


def _prepare_source(source: pydicom.Dataset) -> pydicom.Dataset:
    """Make the source header fit to be copied into a SEG: header values are validated, never copied invalid.

    Missing type 2 patient/study attributes are added empty. A value invalid for its VR (an age ``81`` for
    ``081Y``, a 56-character accession number in an SH, non-ASCII text without a declared character set) is
    emptied when the attribute is type 2 and dropped otherwise; a zero pixel spacing (unknown) is dropped.
    """
    for keyword in _TYPE2_PATIENT_STUDY:
        if keyword not in source:
            setattr(source, keyword, "")
    default_repertoire = "SpecificCharacterSet" not in source
    for element in list(source):
        if element.VR == "SQ" or element.is_empty or _is_valid(element, default_repertoire):
            continue
        logger.debug("%s: invalid %s %r not copied into the SEG", source.filename, element.keyword, element.value)
        if element.keyword in _TYPE2_PATIENT_STUDY:
            element.value = ""
        else:
            del source[element.tag]
    spacing = source.get("PixelSpacing")
    if spacing is not None and not all(float(value) > 0 for value in spacing):
        del source.PixelSpacing
    return source


def _segment(number: int, label: str, algorithm: hd.AlgorithmIdentificationSequence) -> hd.seg.SegmentDescription:
    return hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=label,
        segmented_property_category=codes.SCT.Organ,
        segmented_property_type=codes.SCT.Lung,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=algorithm,
    )


def write_dicom_seg(
    target: str | Path, source_path: str | Path, mask: np.ndarray, model_name: str, model_version: str
) -> Path:
    """Write a binary DICOM SEG of ``mask`` (rows x columns of the source) that references ``source_path``.

    Args:
        target: the ``.dcm`` file to write (atomically).
        source_path: the DICOM radiograph the mask was predicted on.
        mask: binary mask at the source's resolution.
        model_name: algorithm name recorded in the SEG.
        model_version: algorithm version recorded in the SEG.

    Raises:
        ValueError: the source lacks what a SEG must reference (e.g. UIDs) or the sizes differ.

    """
    # Only the header is referenced; the pixels were decoded once already by the reader.
    source = _prepare_source(pydicom.dcmread(source_path, force=True, stop_before_pixels=True))
    if (int(source.Rows), int(source.Columns)) != mask.shape:
        raise ValueError(f"mask is {mask.shape}, source {source_path} is {(source.Rows, source.Columns)}")
    with warnings.catch_warnings():
        # Anonymised files carry one-word patient names; highdicom warns about each, the SEG is still valid.
        warnings.filterwarnings("ignore", message=".*unlikely to represent the intended person name.*")
        seg = _segmentation(source, mask, model_name, model_version)
    # Type 2C in the General Image module of a SEG without a plane orientation: the source's, else empty.
    seg.PatientOrientation = source.get("PatientOrientation", "")
    with atomic_path(target) as temp:
        seg.save_as(temp)
    return Path(target)


def _segmentation(
    source: pydicom.Dataset, mask: np.ndarray, model_name: str, model_version: str
) -> hd.seg.Segmentation:
    algorithm = hd.AlgorithmIdentificationSequence(
        name=model_name, version=model_version, family=codes.cid7162.ArtificialIntelligence
    )
    return hd.seg.Segmentation(
        source_images=[source],
        pixel_array=(mask > 0).astype(np.uint8)[None],
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[_segment(1, "Lungs", algorithm)],
        series_instance_uid=hd.UID(),
        series_number=900,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="lungseg_monai",
        manufacturer_model_name=model_name,
        software_versions=model_version,
        device_serial_number="none",
        series_description=f"Lung segmentation ({model_name})",
    )
