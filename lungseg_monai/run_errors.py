"""How a run ends on a user's mistake or an interrupt: one line and an exit code, not a traceback.

``lungseg`` catches these itself. ``python -m monai.bundle run`` (training, evaluation, a folder run) is MONAI's
command, so the bundle configs call :func:`report_usage_errors` first in their ``initialize`` list: from then on an
uncaught :class:`UsageError` (also when MONAI's config parser has wrapped it) or ``KeyboardInterrupt`` ends the
process with one line on stderr and exit code 2 or 130. Every other error keeps Python's traceback (exit 1).

Only the standard library is imported here, so that ``import lungseg_monai`` stays light.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import NoReturn

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "UsageError",
    "report_usage_errors",
    "require_file",
    "usage_error_behind",
]

#: A bad argument or input path; nothing was done.
EXIT_USAGE = 2
#: Interrupted by Ctrl-C or SIGTERM: 128 + SIGINT, as a shell reports a process that SIGINT ended.
EXIT_INTERRUPTED = 130


class UsageError(ValueError):
    """A mistake in how a tool or a bundle run was called; the message names the argument and the problem."""


def usage_error_behind(err: BaseException) -> UsageError | None:
    """Return the ``UsageError`` that ``err`` is or was raised from, else None.

    MONAI's config parser wraps an error raised while evaluating an expression or building a component in
    ``RuntimeError("Failed to evaluate ...")``; the user needs the error inside.
    """
    seen: BaseException | None = err
    while seen is not None and not isinstance(seen, UsageError):
        seen = seen.__cause__ or seen.__context__
    return seen


def require_file(path: str | Path, argument: str) -> str:
    """Return ``path`` if it is a file, else raise a ``UsageError`` naming ``argument`` (for bundle configs)."""
    if not Path(path).is_file():
        raise UsageError(f"{argument} {path}: no such file")
    return str(path)


def _exit_now(code: int, line: str) -> NoReturn:
    """Print ``line`` on stderr, flush the logs and streams, and end the process with ``code``.

    ``os._exit``: after an uncaught error Python would exit with 1 (or, for an interrupt, kill itself with SIGINT)
    whatever the hook does. The run has not written anything that Python's clean-up would finish.
    """
    print(line, file=sys.stderr)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _one_line_hook(
    kind: type[BaseException], err: BaseException, traceback: TracebackType | None, previous: Callable[..., None]
) -> None:
    """``sys.excepthook``: one line for a usage error or an interrupt; anything else goes to the ``previous`` hook."""
    usage = usage_error_behind(err)
    if usage is not None:
        _exit_now(EXIT_USAGE, f"error: {' '.join(str(usage).split())}")
    if isinstance(err, KeyboardInterrupt):
        _exit_now(EXIT_INTERRUPTED, "interrupted")
    previous(kind, err, traceback)


def report_usage_errors() -> None:
    """Install the one-line ending for this process (once); call it first in a config's ``initialize``."""
    installed = isinstance(sys.excepthook, partial) and sys.excepthook.func is _one_line_hook
    if not installed:
        sys.excepthook = partial(_one_line_hook, previous=sys.excepthook)
