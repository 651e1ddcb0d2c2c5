"""Where a node keeps the films it received: ``<spool>/<StudyInstanceUID>/<SOPInstanceUID>.dcm``, written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import pydicom
from pydicom.uid import UID

from lungseg_monai.data.atomic_writes import write_atomic
from lungseg_monai.inference.output_folder import remove_temporary_files

__all__ = ["FilmSpool", "InvalidFilmError"]


class InvalidFilmError(ValueError):
    """A received data set that cannot be kept (its UIDs are missing or invalid)."""


def _checked_uid(dataset: pydicom.Dataset, keyword: str) -> str:
    """Return the data set's ``keyword`` UID; it becomes a file name, so only a valid UID (digits and dots) is kept."""
    value = str(dataset.get(keyword, "")).strip().rstrip("\x00")
    if not value or not UID(value).is_valid:
        raise InvalidFilmError(f"{keyword} {value!r} is missing or not a valid UID")
    return value


def check_pixel_data(dataset: pydicom.Dataset) -> None:
    """Refuse a data set whose pixels cannot be there: no Pixel Data, or native pixels shorter than the header says.

    Encapsulated (compressed) pixel data need at least one fragment; whether a codestream decodes is only known
    when it is decoded, so a damaged one is stored and fails later, recorded as such.

    Raises:
        InvalidFilmError: naming the problem (it becomes the C-STORE answer's ErrorComment).

    """
    data = dataset.get("PixelData")
    if not data:
        raise InvalidFilmError("no Pixel Data")
    if dataset.file_meta.get("TransferSyntaxUID") is not None and dataset.file_meta.TransferSyntaxUID.is_encapsulated:
        if len(data) <= 16:  # the item tag and length of the offset table, and nothing after it
            raise InvalidFilmError(f"encapsulated Pixel Data has no fragment ({len(data)} bytes)")
        return
    try:
        rows, columns, bits = int(dataset.Rows), int(dataset.Columns), int(dataset.BitsAllocated)
        samples, frames = int(dataset.get("SamplesPerPixel", 1)), int(dataset.get("NumberOfFrames", 1) or 1)
    except (AttributeError, TypeError, ValueError) as err:
        raise InvalidFilmError(f"image size attributes missing or invalid ({err})") from None
    expected = (rows * columns * samples * frames * bits + 7) // 8
    if len(data) < expected:
        raise InvalidFilmError(f"Pixel Data has {len(data)} bytes, the header says {expected}")


class FilmSpool:
    """The received films of a node, one file per SOP instance; the input folder of its segmentation runs.

    Args:
        root: the spool folder (created if missing).

    """

    suffix = ".dcm"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path_of(self, dataset: pydicom.Dataset) -> Path:
        """Return where ``dataset`` is kept: ``<root>/<StudyInstanceUID>/<SOPInstanceUID>.dcm``.

        Raises:
            InvalidFilmError: a UID is missing or invalid.

        """
        study, instance = _checked_uid(dataset, "StudyInstanceUID"), _checked_uid(dataset, "SOPInstanceUID")
        return self.root / study / f"{instance}{self.suffix}"

    def store_encoded(self, dataset: pydicom.Dataset, encoded: bytes) -> Path:
        """Keep a received film as the DICOM file ``encoded`` (preamble, file meta, data set); return its path.

        The file appears complete or not at all (written to a temporary file, then renamed); a film received
        again replaces the earlier copy.

        Raises:
            InvalidFilmError: a UID is missing or invalid, or the pixel data cannot be whole
                (:func:`check_pixel_data`).

        """
        check_pixel_data(dataset)
        return write_atomic(self.path_of(dataset), lambda temp: temp.write_bytes(encoded))

    def store_dataset(self, dataset: pydicom.Dataset) -> Path:
        """Keep a data set read elsewhere (DICOMweb) as a DICOM file; return its path."""
        return write_atomic(self.path_of(dataset), lambda temp: dataset.save_as(temp, enforce_file_format=True))

    def remove_leftovers(self) -> None:
        """Remove the temporary files of films whose reception a killed node did not finish."""
        remove_temporary_files(self.root)

    def films(self) -> list[Path]:
        """Every film kept, oldest first (a restart takes them up in the order they came)."""
        found = [Path(root) / name for root, _, names in os.walk(self.root) for name in names]
        kept = [path for path in found if path.suffix == self.suffix and not path.name.startswith(".")]
        return sorted(kept, key=lambda path: (path.stat().st_mtime, path.name))

    def relative(self, path: Path) -> Path:
        """Return ``path`` relative to the spool (the ``source`` of its outputs)."""
        return path.relative_to(self.root)
