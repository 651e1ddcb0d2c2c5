"""Keep the per-file outcome of a folder run and write it as ``run_summary.csv`` and ``.json``."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from lungseg_monai.data.atomic_writes import write_csv, write_json
from lungseg_monai.inference.output_folder import locked_file
from lungseg_monai.inference.run_page import write_run_page
from lungseg_monai.inference.statuses import FAILED

__all__ = ["FileOutcome", "RunSummary", "merge_shard_summaries"]


@dataclass
class FileOutcome:
    """What happened to one input file."""

    file: str
    status: str
    reason: str = ""
    quality: str = ""
    cardiothoracic_ratio: float | None = None
    flags: list[str] = field(default_factory=list)
    predicted_dice: float | None = None
    view_position: str | None = None


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

    def write(self, output_dir: Path, extra: dict | None = None, name: str = "run_summary") -> None:
        """Write ``<name>.csv`` and ``<name>.json`` atomically into ``output_dir``, and for the run the page."""
        rows = [{**asdict(outcome), "flags": " ".join(outcome.flags)} for outcome in self.outcomes]
        # view_position last: scripts that read the columns by position (0.8.10's seven) read them as before
        columns = [
            "file",
            "status",
            "reason",
            "quality",
            "predicted_dice",
            "cardiothoracic_ratio",
            "flags",
            "view_position",
        ]
        write_csv(output_dir / f"{name}.csv", rows, columns)
        quality = dict(Counter(o.quality for o in self.outcomes if o.quality))
        record = {
            **(extra or {}),
            "counts": self.counts,
            "quality": quality,
            "files": [asdict(o) for o in self.outcomes],
        }
        write_json(output_dir / f"{name}.json", record)
        if name == "run_summary":  # the whole run's (not a shard's part): its page too
            write_run_page(output_dir, record["files"], record)


def merge_shard_summaries(output_dir: Path, count: int) -> dict:
    """Combine the ``run_summary.shard-I-of-<count>.json`` present into ``run_summary.csv``/``.json``.

    Every shard calls this when it ends, under an exclusive lock, so the last one to finish leaves the summary of
    the whole run; until then it lists the shards done so far (``complete`` is false). Returns the merged facts.
    """
    with locked_file(output_dir / ".lungseg-summary.lock"):  # waits: each merge takes milliseconds
        parts = sorted(output_dir.glob(f"run_summary.shard-*-of-{count}.json"))
        records = {path.name.split(".")[1]: json.loads(path.read_text()) for path in parts}
        outcomes = [FileOutcome(**entry) for record in records.values() for entry in record["files"]]
        first = next(iter(records.values()), {})
        facts = {
            "model": first.get("model"),
            "version": first.get("version"),
            "provenance": first.get("provenance"),
            "shard_count": count,
            "shards": {
                label: {k: r.get(k) for k in ("counts", "interrupted", "wall_seconds", "started_at", "finished_at")}
                for label, r in records.items()
            },
            "complete": len(records) == count and not any(r.get("interrupted") for r in records.values()),
            "interrupted": any(r.get("interrupted") for r in records.values()),
            "wall_seconds": max((r.get("wall_seconds", 0.0) for r in records.values()), default=0.0),
            **_span(records.values()),
        }
        RunSummary(sorted(outcomes, key=lambda o: o.file)).write(output_dir, facts)
    return facts


def _span(records: Iterable[dict]) -> dict:
    """Return the first shard's start, the last shard's end and the seconds between: the shards' time together.

    ``wall_seconds`` is the longest shard's own time; shards that start apart (each loads the bundle first) take
    longer together. Across a rerun that redid some shards, the span also counts the time between the runs.
    """
    starts = [r["started_at"] for r in records if r.get("started_at")]
    ends = [r["finished_at"] for r in records if r.get("finished_at")]
    if not starts or not ends:
        return {}
    first, last = min(starts), max(ends)  # ISO 8601 in UTC: text order is time order
    span = datetime.fromisoformat(last) - datetime.fromisoformat(first)
    return {"started_at": first, "finished_at": last, "span_seconds": round(span.total_seconds(), 3)}
