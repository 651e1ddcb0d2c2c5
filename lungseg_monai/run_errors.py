"""How a run ends on a user's mistake or an interrupt: one line and an exit code, not a traceback.

``lungseg`` catches these itself. ``python -m monai.bundle run`` (training, evaluation, a folder run) is MONAI's
command, so the bundle configs call :func:`report_usage_errors` first in their ``initialize`` list: from then on an
uncaught :class:`UsageError` (also when MONAI's config parser has wrapped it) or ``KeyboardInterrupt`` ends the
process with one line on stderr and exit code 2 or 130. Every other error keeps Python's traceback (exit 1). In that
command it also takes over Ctrl-C and SIGTERM until the process exits (:mod:`lungseg_monai.stop_signals`), so a
signal stops a run cleanly at any moment instead of killing it.

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

from lungseg_monai.stop_signals import hold_until_exit, running_as_module

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "UsageError",
    "error_behind",
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


def error_behind(err: BaseException) -> BaseException:
    """Return the ``UsageError`` that ``err`` is or was raised from, else the innermost error of its chain.

    MONAI's config parser wraps an error raised while evaluating an expression or building a component in
    ``RuntimeError("Failed to evaluate ...")``; the user needs the error inside.
    """
    while not isinstance(err, UsageError) and (err.__cause__ or err.__context__) is not None:
        err = err.__cause__ or err.__context__
    return err


def usage_error_behind(err: BaseException) -> UsageError | None:
    """Return the ``UsageError`` that ``err`` is or was raised from, else None."""
    found = error_behind(err)
    return found if isinstance(found, UsageError) else None


def require_file(path: str | Path, argument: str) -> str:
    """Return ``path`` if it is a file, else raise a ``UsageError`` naming ``argument`` (for bundle configs)."""
    if not Path(path).is_file():
        raise UsageError(f"{argument} {path}: no such file")
    return str(path)


def _exit_now(code: int, line: str | None) -> NoReturn:
    """Print ``line`` (if any) on stderr, flush the logs and streams, and end the process with ``code``.

    ``os._exit``: after an uncaught error Python would exit with 1 (or, for an interrupt, kill itself with SIGINT)
    whatever the hook does. The run has not written anything that Python's clean-up would finish.
    """
    if line is not None:
        print(line, file=sys.stderr)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _one_line_hook(
    kind: type[BaseException],
    err: BaseException,
    traceback: TracebackType | None,
    previous: Callable[..., None],
    error_exit: int | None,
) -> None:
    """``sys.excepthook``: one line for a usage error or an interrupt, else the ``previous`` hook and ``error_exit``."""
    usage = usage_error_behind(err)
    if usage is not None:
        _exit_now(EXIT_USAGE, f"error: {' '.join(str(usage).split())}")
    if isinstance(err, KeyboardInterrupt):
        _exit_now(EXIT_INTERRUPTED, "interrupted")
    previous(kind, err, traceback)
    if error_exit is not None:
        _exit_now(error_exit, None)


def report_usage_errors(error_exit: int | None = None) -> None:
    """Install the one-line ending for this process; call it first in a config's ``initialize``.

    Args:
        error_exit: the exit code after the traceback of any other error (Python's 1 if None). A folder run's
            ``inference.json`` gives 3 (``inference.exit_codes.EXIT_ERROR``), since its 1 means some files failed.

    In ``python -m monai.bundle`` it also holds Ctrl-C and SIGTERM until the process exits
    (:func:`lungseg_monai.stop_signals.hold_until_exit`).

    """
    if running_as_module("monai.bundle"):  # in-process callers (lungseg, tests) keep their own signal handling
        hold_until_exit()
    hook = sys.excepthook
    previous = hook.keywords["previous"] if isinstance(hook, partial) and hook.func is _one_line_hook else hook
    sys.excepthook = partial(_one_line_hook, previous=previous, error_exit=error_exit)
