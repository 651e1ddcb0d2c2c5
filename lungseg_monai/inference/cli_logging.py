"""Console and log-file logging of the ``lungseg`` command: one line per message on the console, details in a file."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm

__all__ = ["console_and_file_logging", "LOG_FILE_NAME"]

LOG_FILE_NAME = "lungseg.log"
_OWN_LOGGERS = "lungseg_monai"


class _ConsoleHandler(logging.Handler):
    """Write to stderr through ``tqdm.write`` (so a progress bar is not torn), one line per record, no traceback."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = " ".join(record.getMessage().split())
            prefix = "" if record.levelno < logging.WARNING else f"{record.levelname}: "
            tqdm.write(f"{prefix}{message}", file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging must never raise (logging's own policy)
            self.handleError(record)


def _is_own(record: logging.LogRecord) -> bool:
    return record.name.startswith(_OWN_LOGGERS) or record.levelno >= logging.CRITICAL


@contextmanager
def console_and_file_logging(output_dir: Path) -> Iterator[Path]:
    """Within the block, log this tool's messages (INFO and up) to the console, and everything to a file.

    Libraries' messages (pydicom's decoder tracebacks, MONAI's notices, Python warnings such as a DICOM value
    length warning) go to ``<output_dir>/lungseg.log`` only, so a handled problem shows as one console line.
    The logging set-up before the block is restored after it.

    Yields:
        The log file's path.

    """
    output_dir.mkdir(parents=True, exist_ok=True)
    log_file = output_dir / LOG_FILE_NAME
    root, own, highdicom = logging.getLogger(), logging.getLogger(_OWN_LOGGERS), logging.getLogger("highdicom")
    saved = {name: (lg.handlers[:], lg.propagate) for name, lg in _loggers_with_handlers()}
    saved_root, saved_levels = root.handlers[:], (root.level, own.level, highdicom.level)
    console = _ConsoleHandler(logging.INFO)
    console.addFilter(_is_own)
    to_file = logging.FileHandler(log_file, encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
    root.handlers = [console, to_file]
    root.setLevel(logging.INFO)
    own.setLevel(logging.DEBUG)
    highdicom.setLevel(logging.WARNING)  # it logs a dozen INFO lines per SEG written
    for _, library in _loggers_with_handlers():
        # Libraries with console handlers of their own (MONAI's loggers) reach the file through the root instead.
        library.handlers, library.propagate = [], True
    logging.captureWarnings(True)
    try:
        yield log_file
    finally:
        logging.captureWarnings(False)
        to_file.close()
        root.handlers = saved_root
        root.setLevel(saved_levels[0])
        own.setLevel(saved_levels[1])
        highdicom.setLevel(saved_levels[2])
        for name, (handlers, propagate) in saved.items():
            logging.getLogger(name).handlers, logging.getLogger(name).propagate = handlers, propagate


def _loggers_with_handlers() -> list[tuple[str, logging.Logger]]:
    return [
        (name, logger)
        for name, logger in list(logging.root.manager.loggerDict.items())
        if isinstance(logger, logging.Logger) and logger.handlers and not name.startswith(_OWN_LOGGERS)
    ]
