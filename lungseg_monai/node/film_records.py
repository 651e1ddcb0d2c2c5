"""What a node knows of each film from its JSON record: done (outputs), failed or skipped, and of what content.

A segmented film's record is the folder run's (``<segmentations>/<source>.json``, with ``source_sha256``). A film
that failed or was skipped gets a record from the node at the same place, ``{"source", "status", "reason",
"source_sha256", "time"}``, so that a restart does not take it up again (unless ``--retry-failed``); a folder run
treats such a record as no outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lungseg_monai.data.atomic_writes import write_json
from lungseg_monai.data.checksums import readable_file_sha256
from lungseg_monai.inference.provenance import read_record, record_path
from lungseg_monai.inference.statuses import DONE, FAILED, SKIPPED
from lungseg_monai.node.json_lines import utc_now

__all__ = ["FilmRecords", "KnownFilm", "seg_of"]

#: The outcomes a node records without outputs.
UNSEGMENTED = (FAILED, SKIPPED)


def seg_of(base: Path, record: dict[str, Any] | None) -> Path | None:
    """Return the DICOM SEG that ``record`` (of the outputs ``<base>.*``) lists, None when it lists none.

    Only a plain name of the record's folder is taken: a record is data, never a way to send files from elsewhere.
    """
    outputs = (record or {}).get("outputs")
    name = outputs.get("dicom_seg") if isinstance(outputs, dict) else None
    return base.parent / name if isinstance(name, str) and Path(name).name == name else None


@dataclass(frozen=True)
class KnownFilm:
    """A film's record, as far as a node needs it.

    Attributes:
        status: ``done`` (outputs exist), ``failed`` or ``skipped``.
        reason: why it failed or was skipped (empty when done).
        sha256: SHA-256 of the film file the record is about; None in records written before 0.7.2.
        seg: its DICOM SEG, None when none was written.
        written: the record's modification time (seconds since the epoch).

    """

    status: str
    reason: str
    sha256: str | None
    seg: Path | None
    written: float


class FilmRecords:
    """The records of a node's films in ``output_dir`` (its folder runs' output folder).

    Args:
        output_dir: ``<output-dir>/segmentations``.

    """

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir

    def known(self, source: str) -> KnownFilm | None:
        """Return what the record of film ``source`` (its path in the spool) says, None without a record."""
        path = record_path(self.output_dir / source)
        record = read_record(path)
        if record is None:
            return None
        try:
            written = path.stat().st_mtime
        except OSError:
            return None
        status = record.get("status", DONE)
        sha256 = record.get("source_sha256")
        return KnownFilm(
            status=status if status in UNSEGMENTED else DONE,
            reason=str(record.get("reason", "")),
            sha256=sha256 if isinstance(sha256, str) else None,
            seg=seg_of(self.output_dir / source, record),
            written=written,
        )

    def record_unsegmented(self, source: str, film: Path, status: str, reason: str) -> None:
        """Write the record of film ``source`` that failed or was skipped (``status``) for ``reason``."""
        write_json(
            record_path(self.output_dir / source),
            {
                "source": source,
                "status": status,
                "reason": reason,
                "source_sha256": readable_file_sha256(film),
                "time": utc_now(),
            },
        )

    @staticmethod
    def changed(film: Path, known: KnownFilm) -> bool:
        """Whether ``film`` was replaced by other content after its record was written.

        Only a film written after its record is read again (a restart reads every film's record, not every film).
        """
        try:
            if film.stat().st_mtime <= known.written:
                return False
        except OSError:
            return False
        return known.sha256 is not None and readable_file_sha256(film) != known.sha256
