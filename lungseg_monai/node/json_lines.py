"""Append-only JSON-lines files of a node (``outcomes.jsonl``, ``audit.jsonl``): one line per event, never rewritten."""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["JsonLinesFile", "utc_now"]


def utc_now() -> str:
    """Return the time now in UTC, to the second, as ISO 8601 (``2026-12-04T17:31:25+00:00``)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class JsonLinesFile:
    """A JSON-lines file that threads append to.

    Each line is written with one ``write`` on a file opened for appending, so lines of concurrent threads never
    interleave and a killed node leaves at most its last line cut short (which :meth:`read` skips).

    Args:
        path: the file (created at the first line).

    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def append(self, line: dict[str, Any]) -> None:
        """Append ``line`` (values that JSON lacks, such as paths and UIDs, as their text)."""
        data = (json.dumps(line, default=str) + "\n").encode()
        with self._lock:
            handle = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(handle, data)
            finally:
                os.close(handle)

    def read(self) -> list[dict[str, Any]]:
        """Return the lines written so far (none when the file does not exist), skipping one cut short."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return []
        lines = []
        for line in text.splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
        return lines
