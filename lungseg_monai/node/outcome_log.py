"""``outcomes.jsonl``: one JSON line per film segmented, replaced or SEG sent by a node, appended as it happens."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lungseg_monai.inference.statuses import FAILED
from lungseg_monai.node.json_lines import JsonLinesFile, utc_now

__all__ = ["OutcomeLog", "read_outcomes"]

logger = logging.getLogger(__name__)


class OutcomeLog:
    """A node's lasting record of what became of each film: one line per film per event.

    Events: ``segmented`` (status, reason), ``replaced`` (the film came again with other content: sha256 and
    previous_sha256), ``forwarded`` (destination, seg) and ``forward_failed`` (destination, reason; once until
    the SEG is sent, not at each retry).

    Args:
        path: the file (created if missing).

    """

    def __init__(self, path: str | Path) -> None:
        self._file = JsonLinesFile(path)
        self.path = self._file.path

    def append(self, event: str, film: str, **facts: Any) -> None:
        """Append ``{"time", "event", "film", **facts}`` as one line."""
        self._file.append({"time": utc_now(), "event": event, "film": film, **facts})

    def segmented(self, film: str, status: str, reason: str) -> None:
        """Log one line for a segmented film (a warning when it failed) and append its ``segmented`` event."""
        log = logger.warning if status == FAILED else logger.info
        log("film %s: %s%s", film, status, f" ({reason})" if reason else "")
        self.append("segmented", film, status=status, reason=reason)


def read_outcomes(path: str | Path) -> list[dict[str, Any]]:
    """Return the events of an outcome log, skipping a line a killed node left incomplete."""
    return JsonLinesFile(path).read()
