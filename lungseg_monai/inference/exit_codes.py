"""Exit codes of a folder run (``lungseg`` and ``python -m monai.bundle run`` of a bundle's ``inference.json``)."""

from __future__ import annotations

from lungseg_monai.run_errors import EXIT_INTERRUPTED, EXIT_USAGE
from lungseg_monai.stop_signals import pause_point

__all__ = ["EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_ERROR", "EXIT_INTERRUPTED", "exit_unless_ok", "run_exit_code"]

#: Every file done, already done, skipped or ignored.
EXIT_OK = 0
#: Some files failed (``run_summary.csv`` says which and why).
EXIT_FAILED = 1
# EXIT_USAGE (2): a bad argument; nothing was done (defined in ``lungseg_monai.run_errors``, as bundle runs use it).
#: The run could not start or stopped on an error that is not one file's (a broken bundle, a bug).
EXIT_ERROR = 3
# EXIT_INTERRUPTED (130): interrupted by Ctrl-C or SIGTERM (the run summary marks the files not reached).


def exit_unless_ok(code: int) -> None:
    """End the process with ``code`` unless it is 0: the last step of ``inference.json``'s ``run``."""
    pause_point("exit")
    if code != EXIT_OK:
        raise SystemExit(code)


def run_exit_code(interrupted: bool, failed: bool) -> int:
    """Return the exit code of a folder run: 130 after an interrupt, 1 when any file failed, else 0."""
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if failed else EXIT_OK
