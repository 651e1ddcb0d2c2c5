"""Decode radiograph DICOM files into display-ready greyscale arrays.

The pipeline follows PS3.3 C.11: stored values -> Modality LUT (rescale) -> VOI LUT or window ->
MONOCHROME1 inversion, so that bright always means dense tissue (MONOCHROME2 display).
"""

from __future__ import annotations

import logging
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.errors import BytesLengthException, InvalidDicomError
from pydicom.pixels import apply_modality_lut, apply_voi_lut
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from lungseg_monai.data.errors import NotARadiographError, RadiographReadError, one_line
from lungseg_monai.data.limits import check_pixel_count
from lungseg_monai.data.reduced_decode import decode_reduced_dicom, reduction_factor

__all__ = ["DicomRadiograph", "is_dicom_file", "read_dicom_radiograph", "pixel_spacing_of"]

logger = logging.getLogger(__name__)

#: Storage SOP classes that never hold a projection radiograph's pixels.
_NON_IMAGE_SOP_PREFIXES = ("1.2.840.10008.5.1.4.1.1.88.", "1.2.840.10008.5.1.4.1.1.104.")
_NON_IMAGE_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.66.4": "Segmentation",
    "1.2.840.10008.5.1.4.1.1.481.3": "RT Structure Set",
}
#: BodyPartExamined values of chest films (an empty value is accepted too: many files leave it out).
_CHEST_BODY_PARTS = {"CHEST", "THORAX", "LUNG", "LUNGS", "CHEST_LAT", "PORT CHEST", "TORAX", "BRUST"}
#: Words of a ViewPosition (DICOM's LL, RL, LLD, RLD, RLO, LLO and what archives hold, e.g. ``XTABLE LATERAL``,
#: ``AP LLD``, ``LAO``) or of a BodyPartExamined that name a view other than frontal, with what each view is. The
#: bundles were trained and validated on frontal (PA or AP) films only; an empty or unknown view is segmented.
_NOT_FRONTAL_WORDS = {
    "LL": "a lateral view",
    "RL": "a lateral view",
    "LAT": "a lateral view",
    "LATERAL": "a lateral view",
    "CHEST_LAT": "a lateral view",
    "LLD": "a lateral decubitus view",
    "RLD": "a lateral decubitus view",
    "DECUBITUS": "a lateral decubitus view",
    "DECUB": "a lateral decubitus view",
    "LLO": "an oblique view",
    "RLO": "an oblique view",
    "LAO": "an oblique view",
    "RAO": "an oblique view",
    "LPO": "an oblique view",
    "RPO": "an oblique view",
    "OBLIQUE": "an oblique view",
    "OBL": "an oblique view",
}
#: Free-text descriptions that often name a film's view where ViewPosition is empty: a CR reader's exam menu
#: (``CHEST LAT``), a series or protocol name (``Lateral``), and the performed protocol's code meaning. They are
#: read only where neither ViewPosition nor ViewCodeSequence names a frontal view, and, unlike those, one names a
#: view other than frontal only where it names no frontal view as well: ``CHEST PA AND LAT`` describes both films
#: of a study.
_VIEW_DESCRIPTIONS = ("AcquisitionDeviceProcessingDescription", "SeriesDescription", "ProtocolName")
#: Words that name a frontal view (ViewCodeSequence's "postero-anterior" splits into POSTERO and ANTERIOR).
_FRONTAL_WORDS = {"PA", "AP", "FRONTAL", "POSTERO", "ANTERO", "POSTEROANTERIOR", "ANTEROPOSTERIOR"}
#: A window that saturates more than this share of pixels does not belong to the stored values.
_MAX_CLIPPED_FRACTION = 0.9
#: Modalities that are cross-sectional series rather than projection radiographs.
_NON_RADIOGRAPH_MODALITIES = {"CT", "MR", "PT", "NM", "US", "SEG", "SR", "RTSTRUCT", "DOC", "KO", "PR"}


#: What pydicom raises on a corrupted header element (read lazily) or pixel stream: a damaged file is a read
#: error of that file, never a crash of the run.
_CORRUPT_HEADER_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    NotImplementedError,
    BytesLengthException,
    struct.error,
)
_CORRUPT_PIXEL_ERRORS = (RuntimeError, OSError, EOFError, MemoryError, *_CORRUPT_HEADER_ERRORS)


@dataclass
class DicomRadiograph:
    """A decoded radiograph and the header facts the outputs need.

    Attributes:
        pixels: 2-D float32 array, rows x columns, MONOCHROME2 polarity (bright = dense).
        spacing_mm: (row, column) spacing in mm, or None when the file has no usable spacing.
        spacing_source: ``"PixelSpacing"``, ``"ImagerPixelSpacing"`` (uncalibrated, at the detector) or ``"none"``.
        photometric: the file's original PhotometricInterpretation.
        header: selected header values for records and DICOM SEG outputs.
        original_shape: the file's (rows, columns); ``pixels`` is smaller after a reduced decode.
        view_position: the file's ViewPosition (``PA``, ``AP``...), upper case; ``""`` when it has none.

    """

    pixels: np.ndarray
    spacing_mm: tuple[float, float] | None
    spacing_source: str
    photometric: str
    header: dict[str, Any] = field(default_factory=dict)
    original_shape: tuple[int, int] | None = None
    view_position: str = ""


def is_dicom_file(path: str | Path) -> bool:
    """Return True when ``path`` looks like DICOM: a ``DICM`` preamble, or a raw dataset pydicom can parse."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(132)
    except OSError:
        return False
    if len(head) == 132 and head[128:132] == b"DICM":
        return True
    if path.suffix.lower() in {".dcm", ".dicom"}:
        return True
    if path.suffix:
        return False
    # Files with no file-meta header (raw implicit VR) start directly with a group 0008 tag.
    return len(head) >= 4 and head[:2] == b"\x08\x00"


def pixel_spacing_of(ds: pydicom.Dataset) -> tuple[tuple[float, float] | None, str]:
    """Return ``(spacing_mm, source)``: PixelSpacing, else ImagerPixelSpacing, else none; zeros count as none."""
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        value = ds.get(keyword)
        if value is None or len(value) != 2:
            continue
        row, col = float(value[0]), float(value[1])
        if row > 0 and col > 0:
            return (row, col), keyword
    return None, "none"


def _ensure_transfer_syntax(ds: pydicom.Dataset) -> None:
    """Give a dataset read without file meta the transfer syntax it was parsed with."""
    if "TransferSyntaxUID" in getattr(ds, "file_meta", {}):
        return
    implicit, little = ds.original_encoding
    ds.file_meta = getattr(ds, "file_meta", pydicom.dataset.FileMetaDataset())
    if little is False:
        raise RadiographReadError(f"big-endian DICOM without file meta is not supported: {ds.filename}")
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian


def _check_is_radiograph(ds: pydicom.Dataset, path: Path, require_chest: bool) -> None:
    sop = str(ds.get("SOPClassUID", ""))
    if sop in _NON_IMAGE_SOP_CLASSES or sop.startswith(_NON_IMAGE_SOP_PREFIXES):
        name = _NON_IMAGE_SOP_CLASSES.get(sop, "structured report / document")
        raise NotARadiographError(f"{path}: not an image ({name}, SOP class {sop})")
    modality = str(ds.get("Modality", "")).upper()
    if modality in _NON_RADIOGRAPH_MODALITIES:
        raise NotARadiographError(f"{path}: modality {modality} is not a projection radiograph")
    body_part = _upper_text(ds, "BodyPartExamined")
    if require_chest and body_part and body_part not in _CHEST_BODY_PARTS:
        raise NotARadiographError(f"{path}: BodyPartExamined is {body_part}, not a chest")
    view = _not_frontal_view(ds) if require_chest else None
    if view is not None:
        raise NotARadiographError(f"{path}: {view}; the bundles segment frontal (PA or AP) chest films only")
    if "PixelData" not in ds:
        raise RadiographReadError(f"{path}: no pixel data")
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        raise RadiographReadError(f"{path}: {frames} frames; a radiograph has one")
    if ds.get("SamplesPerPixel", 1) != 1:
        raise RadiographReadError(f"{path}: {ds.SamplesPerPixel} samples per pixel; expected greyscale")
    check_pixel_count(path, int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0))


def _text(holder: pydicom.Dataset, keyword: str) -> str:
    """Return a text element's value stripped; ``""`` when it is missing or empty."""
    return str(holder.get(keyword, "") or "").strip()


def _upper_text(ds: pydicom.Dataset, keyword: str) -> str:
    """Return a text element's value stripped and in upper case; ``""`` when it is missing or empty."""
    return _text(ds, keyword).upper()


def _code_meanings(ds: pydicom.Dataset, sequence: str) -> list[str]:
    """Return the CodeMeaning of each item of a code sequence (ViewCodeSequence...), stripped."""
    return [_text(item, "CodeMeaning") for item in ds.get(sequence, None) or []]


def _not_frontal_view(ds: pydicom.Dataset) -> str | None:
    """Say which header element names a view other than frontal, and which view; None for a frontal or unknown one.

    Reads ViewPosition, BodyPartExamined (``CHEST_LAT``) and the code meanings of ViewCodeSequence (DX files:
    "left lateral", "right lateral decubitus"...); then, where neither of those names a frontal view, the
    descriptions of :data:`_VIEW_DESCRIPTIONS` and of PerformedProtocolCodeSequence, each of which counts only
    where it names no frontal view as well.
    """
    view_position = _upper_text(ds, "ViewPosition")
    for keyword, value in (("ViewPosition", view_position), ("BodyPartExamined", _upper_text(ds, "BodyPartExamined"))):
        for word in re.split(r"[^A-Z_]+", value):  # whole codes such as CHEST_LAT
            if word in _NOT_FRONTAL_WORDS:
                return f"{keyword} is {value} ({_NOT_FRONTAL_WORDS[word]})"
    meanings = _code_meanings(ds, "ViewCodeSequence")
    for meaning in meanings:
        view = _view_named(meaning, frontal_clears=False)
        if view:
            return f"ViewCodeSequence is '{meaning}' ({view})"
    if any(_names_frontal(text) for text in (view_position, *meanings)):
        return None  # the view is stated: what a series or protocol is called does not overrule it
    described = [(keyword, _text(ds, keyword)) for keyword in _VIEW_DESCRIPTIONS]
    described += [("PerformedProtocolCodeSequence", m) for m in _code_meanings(ds, "PerformedProtocolCodeSequence")]
    for keyword, text in described:
        view = _view_named(text, frontal_clears=True)
        if view:
            return f"{keyword} is '{text}' ({view})"
    return None


def _words(text: str) -> list[str]:
    """Return the words of free text in upper case (split at anything but a letter)."""
    return re.split(r"[^A-Z]+", text.upper())


def _view_named(text: str, frontal_clears: bool) -> str | None:
    """Return the view other than frontal that ``text`` names (``"a lateral view"``...), else None.

    With ``frontal_clears`` (a free-text description), a text that also names a frontal view names none.
    """
    if frontal_clears and _names_frontal(text):
        return None
    return next((_NOT_FRONTAL_WORDS[word] for word in _words(text) if word in _NOT_FRONTAL_WORDS), None)


def _names_frontal(text: str) -> bool:
    """Whether ``text`` has a word that names a frontal view (PA, AP, frontal, postero-anterior...)."""
    return bool(_FRONTAL_WORDS.intersection(_words(text)))


def _apply_voi(values: np.ndarray, ds: pydicom.Dataset, path: Path) -> tuple[np.ndarray, str]:
    """Apply the file's VOI LUT or window; ignore one that clips almost every pixel to a single value.

    Returns the values and what was applied (``"voi"``, ``"none"`` or ``"ignored"``).
    """
    if "WindowCenter" not in ds and "VOILUTSequence" not in ds:
        return values, "none"
    windowed = np.asarray(apply_voi_lut(values, ds), dtype=np.float32)
    low, high = windowed.min(), windowed.max()
    clipped = np.mean((windowed == low) | (windowed == high))
    if high <= low or clipped > _MAX_CLIPPED_FRACTION:
        logger.warning("%s: VOI window clips %.0f%% of pixels; using modality values instead", path, 100 * clipped)
        return values, "ignored"
    return windowed, "voi"


def _header_summary(ds: pydicom.Dataset) -> dict[str, Any]:
    keys = (
        "SOPClassUID",
        "SOPInstanceUID",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "PatientID",
        "Modality",
        "BodyPartExamined",
        "ViewPosition",
        "Rows",
        "Columns",
        "BitsStored",
    )
    return {key: (str(ds.get(key)) if ds.get(key) is not None else None) for key in keys}


def read_dicom_radiograph(path: str | Path, require_chest: bool = True, min_side: int = 0) -> DicomRadiograph:
    """Read one DICOM radiograph and return MONOCHROME2 display values.

    Args:
        path: a DICOM file, with or without a file-meta header or ``.dcm`` suffix.
        require_chest: refuse files whose BodyPartExamined names another body part, or whose header names a view
            other than frontal (lateral, decubitus, oblique: the bundles segment frontal chest films only).
        min_side: decode at a reduced resolution, keeping at least this many pixels on the shorter side, where
            the codec offers it (JPEG 2000, baseline JPEG; see ``reduced_decode``); 0 decodes in full.

    Returns:
        The decoded image and its spacing/header facts.

    Raises:
        NotARadiographError: a non-image object (SR, SEG...), a cross-sectional modality, another body part or a
            view other than frontal.
        RadiographReadError: the file is not DICOM, not a single-frame greyscale radiograph, or its pixel
            stream cannot be decoded. The message names the file and the problem.

    """
    path = Path(path)
    try:
        ds = pydicom.dcmread(path, force=True)
    except (InvalidDicomError, OSError, EOFError, *_CORRUPT_HEADER_ERRORS) as err:
        raise RadiographReadError(f"{path}: unreadable DICOM ({one_line(err)})") from err
    # pydicom parses elements when first used, so a damaged element raises wherever it is first read.
    try:
        return _decode(ds, path, require_chest, min_side)
    except RadiographReadError:
        raise
    except _CORRUPT_HEADER_ERRORS as err:
        raise RadiographReadError(f"{path}: corrupt DICOM header ({type(err).__name__}: {one_line(err)})") from err


def _decode(ds: pydicom.Dataset, path: Path, require_chest: bool, min_side: int = 0) -> DicomRadiograph:
    if "SOPClassUID" not in ds and "PixelData" not in ds:
        raise RadiographReadError(f"{path}: not a DICOM dataset")
    _check_is_radiograph(ds, path, require_chest)
    _ensure_transfer_syntax(ds)
    factor = reduction_factor(int(ds.get("Rows", 0)), int(ds.get("Columns", 0)), min_side)
    stored = decode_reduced_dicom(ds, factor) if factor > 1 else None
    try:
        if stored is None:
            stored = ds.pixel_array
    except _CORRUPT_PIXEL_ERRORS as err:
        raise RadiographReadError(f"{path}: pixel data cannot be decoded ({one_line(err)})") from err
    modality_values = np.asarray(apply_modality_lut(stored, ds), dtype=np.float32)
    values, voi = _apply_voi(modality_values, ds, path)
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    if photometric == "MONOCHROME1":
        values = values.max() + values.min() - values
    spacing, source = pixel_spacing_of(ds)
    header = _header_summary(ds)
    header["VOI"] = voi
    original_shape = (int(ds.Rows), int(ds.Columns)) if "Rows" in ds and "Columns" in ds else values.shape
    return DicomRadiograph(
        values, spacing, source, photometric, header, tuple(original_shape), _upper_text(ds, "ViewPosition")
    )
