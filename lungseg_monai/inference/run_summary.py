"""Keep the per-file outcome of a folder run and write it as ``run_summary.csv`` and ``.json``."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from lungseg_monai.data.atomic_writes import write_csv, write_json
from lungseg_monai.inference.statuses import FAILED

__all__ = ["FileOutcome", "RunSummary"]


@dataclass
class FileOutcome:
    """What happened to one input file."""

    file: str
    status: str
    reason: str = ""
    quality: str = ""


class RunSummary:
    """Outcomes of a folder run, written as ``run_summary.csv`` and ``run_summary.json``."""

    def __init__(self, outcomes: list[FileOutcome] | None = None) -> None:
        self.outcomes: list[FileOutcome] = outcomes or []

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
        rows = [asdict(outcome) for outcome in self.outcomes]
        write_csv(output_dir / "run_summary.csv", rows, ["file", "status", "reason", "quality"])
        record = {**(extra or {}), "counts": self.counts, "files": [asdict(o) for o in self.outcomes]}
        write_json(output_dir / "run_summary.json", record)
