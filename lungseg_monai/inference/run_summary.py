"""Find the files of an input folder and keep the per-file outcome of a folder run."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from lungseg_monai.data.dicom_io import is_dicom_file
from lungseg_monai.data.radiograph_io import JSRT_SUFFIXES, NIFTI_SUFFIXES, PIL_SUFFIXES
from lungseg_monai.inference.writers import write_atomic, write_json

__all__ = ["FileOutcome", "RunSummary", "find_input_files", "check_output_dir"]

#: Outcome statuses. Only ``failed`` makes a run exit non-zero.
DONE, ALREADY_DONE, SKIPPED, IGNORED, FAILED = "done", "already_done", "skipped", "ignored", "failed"


@dataclass
class FileOutcome:
    """What happened to one input file."""

    file: str
    status: str
    reason: str = ""
    quality: str = ""


def check_output_dir(input_dir: Path, output_dir: Path) -> None:
    """Refuse an output folder inside the input folder (outputs must never mix with the inputs)."""
    if not input_dir.is_dir():
        raise NotADirectoryError(f"input folder {input_dir} does not exist or is not a folder")
    inside = output_dir.resolve() == input_dir.resolve() or input_dir.resolve() in output_dir.resolve().parents
    if inside:
        raise ValueError(f"output folder {output_dir} is inside the input folder {input_dir}; choose another")


def _looks_like_image(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(PIL_SUFFIXES + NIFTI_SUFFIXES + JSRT_SUFFIXES) or is_dicom_file(path)


def find_input_files(input_dir: Path) -> tuple[list[Path], list[Path]]:
    """Return ``(images, others)`` under ``input_dir``, recursively, sorted; hidden files are left out."""
    images, others = [], []
    for path in sorted(p for p in input_dir.rglob("*") if p.is_file()):
        if any(part.startswith(".") for part in path.relative_to(input_dir).parts):
            continue
        (images if _looks_like_image(path) else others).append(path)
    return images, others


class RunSummary:
    """Outcomes of a folder run, written as ``run_summary.csv`` and ``run_summary.json``."""

    def __init__(self) -> None:
        self.outcomes: list[FileOutcome] = []

    def add(self, file: str, status: str, reason: str = "", quality: str = "") -> None:
        """Record one file's outcome."""
        self.outcomes.append(FileOutcome(file, status, reason, quality))

    @property
    def counts(self) -> dict[str, int]:
        """Number of files per status."""
        return dict(Counter(outcome.status for outcome in self.outcomes))

    @property
    def failed(self) -> bool:
        """True when any file failed."""
        return any(outcome.status == FAILED for outcome in self.outcomes)

    def write(self, output_dir: Path, extra: dict | None = None) -> None:
        """Write the CSV and JSON summaries atomically into ``output_dir``."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["file", "status", "reason", "quality"])
        writer.writeheader()
        writer.writerows(asdict(outcome) for outcome in self.outcomes)
        write_atomic(output_dir / "run_summary.csv", lambda p: p.write_text(buffer.getvalue()))
        record = {**(extra or {}), "counts": self.counts, "files": [asdict(o) for o in self.outcomes]}
        write_json(output_dir / "run_summary.json", record)
