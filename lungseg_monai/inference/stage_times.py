"""Seconds spent per stage of a folder run, so a user (or the benchmark) can see where the time goes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["StageTimes"]


class StageTimes:
    """Thread-safe accumulator of wall seconds and call counts per named stage.

    Stages timed in DataLoader worker processes are added with :meth:`add` from a figure the worker measured.
    Stages overlap when work runs in parallel, so the sum may exceed the run's wall time.
    """

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}
        self._calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, stage: str, seconds: float) -> None:
        """Add ``seconds`` (one call) to ``stage``."""
        with self._lock:
            self._seconds[stage] = self._seconds.get(stage, 0.0) + seconds
            self._calls[stage] = self._calls.get(stage, 0) + 1

    @contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        """Time the ``with`` block and add it to ``stage``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - start)

    def as_dict(self) -> dict[str, dict[str, float]]:
        """``{stage: {"seconds": s, "calls": n, "ms_per_call": m}}`` in the order stages were first seen."""
        with self._lock:
            return {
                stage: {
                    "seconds": round(seconds, 4),
                    "calls": self._calls[stage],
                    "ms_per_call": round(1000 * seconds / self._calls[stage], 2),
                }
                for stage, seconds in self._seconds.items()
            }
