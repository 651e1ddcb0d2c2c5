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
import threading
from pathlib import Path

from ignite.engine import Engine, Events

from lungseg_monai.inference.cli_logging import LOG_FILE_NAME

__all__ = ["LIBRARY_LOGGERS", "LibraryLogFile"]

#: The loggers whose messages go to the file: the DICOM libraries and Python's warnings.
LIBRARY_LOGGERS = ("pydicom", "highdicom", "py.warnings")


#: The runs' file handlers now writing, and the loggers' own state before the first of them started. Several runs
#: in one process (the node's workers, ``BundleRunner`` threads) share the global library loggers: the first run
#: to start saves their state and the last to stop puts it back, so one run's stop cannot undo another's start.
_ACTIVE: list[logging.FileHandler] = []
_SAVED: dict[str, tuple[list[logging.Handler], bool, int]] = {}
_LOCK = threading.Lock()


def _route_to_active() -> None:
    """Point :data:`LIBRARY_LOGGERS` at the active runs' files, or back to their saved state when none is left."""
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        if _ACTIVE:
            library.handlers, library.propagate = list(_ACTIVE), False
            library.setLevel(logging.INFO)
        else:
            handlers, propagate, level = _SAVED[name]
            library.handlers, library.propagate = handlers, propagate
            library.setLevel(level)


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
    The loggers are put back when the run completes. Runs that overlap in one process (threads) each get the
    library messages of all of them, since the loggers are the process's; the loggers come back when the last ends.

    Args:
        output_dir: the run's (checked, claimed) output folder.

    """

    def __init__(self, output_dir: str | Path) -> None:
        self.log_file = Path(output_dir) / LOG_FILE_NAME
        self._handler: logging.FileHandler | None = None

    def attach(self, engine: Engine) -> None:
        """Start at ``STARTED``, put the loggers back at ``COMPLETED``."""
        engine.add_event_handler(Events.STARTED, self.start)
        engine.add_event_handler(Events.COMPLETED, self.stop)

    def start(self, _: Engine | None = None) -> None:
        """Send the library loggers' records (INFO and up, with tracebacks) to the log file only."""
        if self._handler is not None or _keeps_a_log_file():
            return
        handler = logging.FileHandler(self.log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
        with _LOCK:
            if not _ACTIVE:
                for name in LIBRARY_LOGGERS:
                    library = logging.getLogger(name)
                    _SAVED[name] = (library.handlers[:], library.propagate, library.level)
                logging.captureWarnings(True)
            _ACTIVE.append(handler)
            _route_to_active()
        self._handler = handler

    def stop(self, _: Engine | None = None) -> None:
        """Put the library loggers back as they were (when no other run still writes) and close the file."""
        if self._handler is None:
            return
        with _LOCK:
            _ACTIVE.remove(self._handler)
            _route_to_active()
            if not _ACTIVE:
                logging.captureWarnings(False)
                _SAVED.clear()
        self._handler.close()
        self._handler = None
