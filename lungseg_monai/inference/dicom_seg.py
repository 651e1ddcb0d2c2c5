"""Write predicted lungs and cardiomediastinum as a DICOM Segmentation object (highdicom) referencing the source."""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from pydicom import config
from pydicom.sr.codedict import codes
from pydicom.valuerep import IS, DSdecimal, DSfloat, validate_value

from lungseg_monai.data.atomic_writes import atomic_path

__all__ = ["write_dicom_seg"]

logger = logging.getLogger(__name__)

# Anonymised files carry one-word patient names; highdicom warns about each, and the SEG is still valid. A filter for
# the process, narrowed to that warning of highdicom's: ``warnings.catch_warnings`` around each SEG let it through
# when two item threads wrote SEGs at once (it swaps the process's filters, so one thread's exit undid the other's).
warnings.filterwarnings(
    "ignore", message=".*unlikely to represent the intended person name", category=UserWarning, module="highdicom"
)


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


def _as_written(value: object) -> object:
    """Return a decimal or integer string value (pydicom's ``DSfloat``, ``DSdecimal``, ``IS``) as its text.

    pydicom's ``validate_value`` checks the text of a DS or IS value and rejects the number types pydicom itself
    reads them as; other values are returned as they are.
    """
    if isinstance(value, DSfloat | DSdecimal | IS):
        return value.original_string if getattr(value, "original_string", None) is not None else str(value)
    return value


def _is_valid(element: pydicom.DataElement, default_repertoire: bool) -> bool:
    """Return True when ``element``'s value is valid for its VR (and, without a character set, plain ASCII)."""
    values = element.value if element.VM > 1 else [element.value]
    try:
        for value in values:
            if default_repertoire and element.VR in _TEXT_VRS and not str(value).isascii():
                return False
            if element.VR == "DS" and not math.isfinite(float(value)):
                return False
            validate_value(element.VR, _as_written(value), config.RAISE)
    except (ValueError, TypeError):
        return False
    return True


def _prepare_source(source: pydicom.Dataset) -> pydicom.Dataset:
    """Make the source header fit to be copied into a SEG: header values are validated, never copied invalid.

    Missing type 2 patient/study attributes are added empty. A value invalid for its VR (an age ``81`` for
    ``081Y``, a 56-character accession number in an SH, non-ASCII text without a declared character set) is
    emptied when the attribute is type 2 and dropped otherwise; a zero pixel spacing (unknown) is dropped. Valid
    decimal and integer strings (DS, IS: PixelSpacing, InstanceNumber, KVP) are kept.
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
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        if keyword in source and not (source[keyword].VM == 2 and all(v > 0 for v in source[keyword].value)):
            del source[keyword]
    return source


#: ``ImageComments`` of a SEG whose pixel spacing is the detector's: what a viewer's millimetres then mean.
IMAGER_SPACING_CAVEAT = (
    "Pixel Spacing copied from the source's Imager Pixel Spacing: measured at the detector plane, not corrected "
    "for geometric magnification; distances in the patient are smaller"
)


def _pixel_measures(source: pydicom.Dataset) -> tuple[hd.PixelMeasuresSequence | None, str | None]:
    """Return the SEG's pixel measures and their caveat (``None`` when there is none) from a prepared source.

    The source's PixelSpacing (in the patient, or calibrated) when it has one, else its ImagerPixelSpacing (at the
    detector) with :data:`IMAGER_SPACING_CAVEAT`; neither: no pixel measures, the SEG then has no millimetres.
    """
    for keyword, caveat in (("PixelSpacing", None), ("ImagerPixelSpacing", IMAGER_SPACING_CAVEAT)):
        if keyword in source:
            spacing = [float(value) for value in source[keyword].value]
            return hd.PixelMeasuresSequence(pixel_spacing=spacing, slice_thickness=None), caveat
    return None, None


#: Per structure: segment label, property category, property type and laterality modifier (SNOMED CT).
_SEGMENTS = {
    "right_lung": ("Right lung", codes.SCT.Organ, codes.SCT.Lung, codes.SCT.Right),
    "left_lung": ("Left lung", codes.SCT.Organ, codes.SCT.Lung, codes.SCT.Left),
    # The cardiomediastinal silhouette: the heart with the rest of the mediastinum (SCT 72410000 Mediastinum).
    "cardiomediastinum": ("Cardiomediastinum", codes.SCT.AnatomicalStructure, codes.SCT.Mediastinum, None),
}


def _segment(
    number: int, structure: str, convention: str, algorithm: hd.AlgorithmIdentificationSequence
) -> hd.seg.SegmentDescription:
    label, category, property_type, laterality = _SEGMENTS[structure]
    description = hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=label,
        segmented_property_category=category,
        segmented_property_type=property_type,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=algorithm,
    )
    if laterality is not None:
        # Segmented Property Type Modifier: the side, as DICOM's lung segment templates code it.
        modifier = hd.sr.CodedConcept(laterality.value, laterality.scheme_designator, laterality.meaning)
        description.SegmentedPropertyTypeCodeSequence[0].SegmentedPropertyTypeModifierCodeSequence = [modifier]
        description.SegmentDescription = f"{label}, {convention} convention"
    return description


def write_dicom_seg(
    target: str | Path,
    source_path: str | Path,
    masks: dict[str, np.ndarray],
    model_name: str,
    model_version: str,
    convention: str = "anatomical",
) -> Path:
    """Write a binary DICOM SEG with one segment per structure of ``masks`` that references ``source_path``.

    Args:
        target: the ``.dcm`` file to write (atomically).
        source_path: the DICOM radiograph the masks were predicted on.
        masks: ``right_lung``, ``left_lung`` and ``cardiomediastinum`` (any of them), binary, rows x columns of
            the source; segments are numbered in that order.
        model_name: algorithm name recorded in the SEG.
        model_version: algorithm version recorded in the SEG.
        convention: the lung convention of the lung masks, in their segment descriptions.

    Raises:
        ValueError: the source lacks what a SEG must reference (e.g. UIDs) or the sizes differ.

    """
    # Only the header is referenced; the pixels were decoded once already by the reader.
    source = _prepare_source(pydicom.dcmread(source_path, force=True, stop_before_pixels=True))
    structures = [name for name in _SEGMENTS if name in masks]
    for name in structures:
        if (int(source.Rows), int(source.Columns)) != masks[name].shape:
            raise ValueError(
                f"{name} mask is {masks[name].shape}, source {source_path} is {(source.Rows, source.Columns)}"
            )
    pixel_measures, caveat = _pixel_measures(source)
    seg = _segmentation(
        source, [masks[n] for n in structures], structures, convention, model_name, model_version, pixel_measures
    )
    # Type 2C in the General Image module of a SEG without a plane orientation: the source's, else empty.
    seg.PatientOrientation = source.get("PatientOrientation", "")
    if caveat is not None:
        seg.ImageComments = caveat
    with atomic_path(target) as temp:
        seg.save_as(temp)
    return Path(target)


def _segmentation(
    source: pydicom.Dataset,
    masks: list[np.ndarray],
    structures: list[str],
    convention: str,
    model_name: str,
    model_version: str,
    pixel_measures: hd.PixelMeasuresSequence | None,
) -> hd.seg.Segmentation:
    algorithm = hd.AlgorithmIdentificationSequence(
        name=model_name, version=model_version, family=codes.cid7162.ArtificialIntelligence
    )
    # highdicom takes (frames, rows, columns, segments); behind that view each segment's plane is contiguous, so its
    # overlap check and its per-segment frames read whole planes: the same pixel data in 40 ms instead of 112 ms for
    # a segment-interleaved array (2000x2128 film; docs/experiments/output_write_costs.py, "DICOM SEG once warm").
    planes = np.stack([np.asarray(m, dtype=bool) for m in masks]).view(np.uint8)
    return hd.seg.Segmentation(
        pixel_measures=pixel_measures,
        source_images=[source],
        pixel_array=np.moveaxis(planes, 0, -1)[None],
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[
            _segment(number, name, convention, algorithm) for number, name in enumerate(structures, start=1)
        ],
        series_instance_uid=hd.UID(),
        series_number=900,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer="lungseg_monai",
        manufacturer_model_name=model_name,
        software_versions=model_version,
        device_serial_number="none",
        series_description=f"Lung and heart segmentation ({model_name})",
    )
