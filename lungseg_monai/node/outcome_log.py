"""``outcomes.jsonl``: one JSON line per film segmented or SEG sent by a node, appended as it happens."""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lungseg_monai.inference.statuses import FAILED

__all__ = ["OutcomeLog", "read_outcomes"]

logger = logging.getLogger(__name__)


class OutcomeLog:
    """Append events to a JSON-lines file: a node's lasting record of what became of each film.

    Each line is written with one ``write`` on a file opened for appending, so lines of concurrent threads never
    interleave and a killed node leaves at most its last line cut short (which :func:`read_outcomes` skips).

    Args:
        path: the file (created if missing).

    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def append(self, event: str, film: str, **facts: Any) -> None:
        """Append ``{"time", "event", "film", **facts}`` as one line."""
        line = {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "event": event, "film": film}
        data = (json.dumps({**line, **facts}, default=str) + "\n").encode()
        with self._lock:
            handle = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(handle, data)
            finally:
                os.close(handle)

    def segmented(self, film: str, status: str, reason: str) -> None:
        """Log one line for a segmented film (a warning when it failed) and append its ``segmented`` event."""
        log = logger.warning if status == FAILED else logger.info
        log("film %s: %s%s", film, status, f" ({reason})" if reason else "")
        self.append("segmented", film, status=status, reason=reason)


def read_outcomes(path: str | Path) -> list[dict[str, Any]]:
    """Return the events of an outcome log, skipping a line a killed node left incomplete."""
    events = []
    for line in Path(path).read_text().splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events
