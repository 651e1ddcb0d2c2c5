"""A logging handler that keeps the messages of a run, for tests whose run replaces the handlers caplog uses."""

from __future__ import annotations

import logging


class LogLines(logging.Handler):
    """Keep each record's message (``level`` and up) in :attr:`lines`."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record's message."""
        self.lines.append(record.getMessage())
