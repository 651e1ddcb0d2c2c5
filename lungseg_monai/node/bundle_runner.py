"""Segment a list of received films with a bundle's ``inference.json``: the folder-inference pipeline, unchanged."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lungseg_monai.inference.bundle_workflow import inference_workflow
from lungseg_monai.inference.provenance import read_record, record_path
from lungseg_monai.inference.run_summary import FileOutcome
from lungseg_monai.inference.statuses import ALREADY_DONE, DONE, NOT_REACHED
from lungseg_monai.node.film_records import seg_of

__all__ = ["BundleRunner", "FilmResult"]

logger = logging.getLogger(__name__)

_BUILDING = threading.Lock()


@dataclass(frozen=True)
class FilmResult:
    """What a segmentation run made of one film.

    Attributes:
        film: the film's path in the spool.
        status: as in ``run_summary.csv`` (``done``, ``already_done``, ``skipped``, ``failed``, ...).
        reason: why, for any status but ``done``.
        record: the film's JSON record (``<output_dir>/<source>.json``), None when none was written.
        seg: the film's DICOM SEG, None when none was written.
        source_sha256: SHA-256 of the film file its record is about, None without a record.

    """

    film: Path
    status: str
    reason: str
    record: Path | None
    seg: Path | None
    source_sha256: str | None = None

    @property
    def segmented(self) -> bool:
        """Whether the film has up-to-date outputs (made now or by an earlier run)."""
        return self.status in (DONE, ALREADY_DONE)


class BundleRunner:
    """Run a bundle's ``inference.json`` on listed films of a spool folder, writing into ``output_dir``.

    Each call builds the workflow anew (config parsing takes milliseconds; weights are checked and loaded each
    time) and runs it on the listed files only (``files``), sharing ``output_dir`` with the calls of other
    threads. The outputs, records and statuses are those of a folder run over the same files.

    Args:
        bundle: the bundle folder.
        spool: the folder the films are in (the runs' ``input_dir``).
        output_dir: where outputs go (the runs' ``output_dir``).
        overrides: more ``inference.json`` overrides (``batch_size``, ``write_overlay``, ...).

    """

    def __init__(self, bundle: Path, spool: Path, output_dir: Path, **overrides: Any) -> None:
        self.bundle, self.spool, self.output_dir = bundle, spool, output_dir
        # Decoding runs in the calling thread: no DataLoader processes forked from a server with many threads
        # (MONAI's ThreadDataLoader measured no faster); the outputs of a batch are written by 2 threads.
        self.overrides = {"num_workers": 0, "item_threads": 2, **overrides}

    def run(self, films: list[Path]) -> list[FilmResult]:
        """Segment ``films`` (paths in the spool); return one result per film, in their order."""
        sources = [film.relative_to(self.spool) for film in films]
        workflow = inference_workflow(
            self.bundle,
            input_dir=self.spool,
            output_dir=self.output_dir,
            files=sources,
            write_run_summary=False,
            **self.overrides,
        )
        workflow.parser["run_summary"]["progress"] = False
        with _BUILDING:  # MONAI's config parsing is not thread-safe; the runs themselves go side by side
            workflow.initialize()
            workflow.parser.get_parsed_content("evaluator")
        try:
            workflow.run()
        finally:
            workflow.finalize()
        outcomes = {o.file: o for o in workflow.parser.get_parsed_content("run_summary").summary.outcomes}
        del workflow
        _collect_the_run()
        pairs = zip(films, sources, strict=True)
        return [self._result(film, outcomes.get(source.as_posix())) for film, source in pairs]

    def _result(self, film: Path, outcome: FileOutcome | None) -> FilmResult:
        source = film.relative_to(self.spool).as_posix()
        if outcome is None:  # not reached: the run was stopped
            return FilmResult(film, NOT_REACHED, "the run stopped before this film", None, None, None)
        base = self.output_dir / source
        record = read_record(record_path(base)) if outcome.status in (DONE, ALREADY_DONE) else None
        digest = (record or {}).get("source_sha256")
        return FilmResult(film, outcome.status, outcome.reason, record_path(base) if record else None,
                          seg_of(base, record), digest if isinstance(digest, str) else None)  # fmt: skip


def _collect_the_run() -> None:
    """Free a finished run's objects now: they form reference cycles (the engine, its handlers and its state).

    The cycles hold the last batch's images at full size; left to Python's occasional full collection, a node
    grew by about 150 MB per 15 films between collections (``benchmarks/node_soak.py``). Then, with glibc, the
    freed pages go back to the system (``malloc_trim``): a long-running node's memory follows what it holds, not
    the largest films it ever decoded.
    """
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


_LIBC = _glibc() if sys.platform.startswith("linux") else None
