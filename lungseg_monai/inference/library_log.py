"""A bundle folder run's library messages (pydicom's decoder tracebacks, highdicom's notes) go to a log file.

``python -m monai.bundle run`` of ``inference.json`` logs to the console through the bundle's ``logging.conf``.
pydicom logs an ERROR with a full traceback for each decoder it tries on a file that the run then handles as one
``failed`` line, so a folder with one broken file printed two tracebacks where nothing was wrong with the run.
``lungseg`` and ``lungseg serve`` already keep library messages in their own log file
(:func:`~lungseg_monai.inference.cli_logging.console_and_file_logging`); a bundle run now keeps them in
``<output_dir>/lungseg.log`` too.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ignite.engine import Engine, Events

from lungseg_monai.inference.cli_logging import LOG_FILE_NAME

__all__ = ["LIBRARY_LOGGERS", "LibraryLogFile"]

#: The loggers whose messages go to the file: the DICOM libraries and Python's warnings.
LIBRARY_LOGGERS = ("pydicom", "highdicom", "py.warnings")


def _keeps_a_log_file() -> bool:
    """Whether the process already writes a ``lungseg.log`` through the root logger (``lungseg``, the node)."""
    return any(
        isinstance(handler, logging.FileHandler) and Path(handler.baseFilename).name == LOG_FILE_NAME
        for handler in logging.getLogger().handlers
    )


class LibraryLogFile:
    """Ignite handler: from the evaluator's start, :data:`LIBRARY_LOGGERS` write to ``<output_dir>/lungseg.log``.

    Started before the data loader forks its workers, so the workers' messages go there too. Nothing changes when
    the process already keeps a ``lungseg.log`` through the root logger (``lungseg``, ``lungseg serve``).
    The loggers are put back when the run completes.

    Args:
        output_dir: the run's (checked, claimed) output folder.

    """

    def __init__(self, output_dir: str | Path) -> None:
        self.log_file = Path(output_dir) / LOG_FILE_NAME
        self._handler: logging.FileHandler | None = None
        self._saved: dict[str, tuple[list[logging.Handler], bool, int]] = {}

    def attach(self, engine: Engine) -> None:
        """Start at ``STARTED``, put the loggers back at ``COMPLETED``."""
        engine.add_event_handler(Events.STARTED, self.start)
        engine.add_event_handler(Events.COMPLETED, self.stop)

    def start(self, _: Engine | None = None) -> None:
        """Send the library loggers' records (INFO and up, with tracebacks) to the log file only."""
        if self._handler is not None or _keeps_a_log_file():
            return
        self._handler = logging.FileHandler(self.log_file, encoding="utf-8")
        self._handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
        for name in LIBRARY_LOGGERS:
            library = logging.getLogger(name)
            self._saved[name] = (library.handlers[:], library.propagate, library.level)
            library.handlers, library.propagate = [self._handler], False
            library.setLevel(logging.INFO)
        logging.captureWarnings(True)

    def stop(self, _: Engine | None = None) -> None:
        """Put the library loggers back as they were and close the file."""
        if self._handler is None:
            return
        logging.captureWarnings(False)
        for name, (handlers, propagate, level) in self._saved.items():
            library = logging.getLogger(name)
            library.handlers, library.propagate = handlers, propagate
            library.setLevel(level)
        self._handler.close()
        self._handler, self._saved = None, {}
