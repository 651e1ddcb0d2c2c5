"""Signals in ``DataLoader`` worker processes (training, evaluation, folder runs).

The workers leave Ctrl-C and SIGTERM to the main process, which handles them with :mod:`lungseg_monai.stop_signals`;
the main process kills the workers still running when it exits.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import signal
import sys
from multiprocessing.util import Finalize
from types import TracebackType

from lungseg_monai.stop_signals import STOP_SIGNALS

__all__ = ["end_workers", "quiet_worker"]

logger = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


def end_workers() -> None:
    """Kill this process's daemonic children (its ``DataLoader`` workers) that still run.

    ``multiprocessing`` ends them at exit with SIGTERM, which :func:`quiet_worker` ignores, and then waits for
    them: a run that exits while an iterator's workers live (persistent workers, or an interrupt that came while
    the iterator started them and left it half-built) would wait forever. Runs at exit, before that SIGTERM.
    """
    for child in multiprocessing.active_children():
        if child.daemon:
            child.kill()
            child.join()


#: multiprocessing's own exit hook: finalizers of priority >= 0 run before it ends the daemonic children.
_END_WORKERS_AT_EXIT = Finalize(None, end_workers, exitpriority=0)


def _log_helper_thread_error(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
    logger.debug("a helper thread of a DataLoader worker stopped", exc_info=(kind, error, trace))


def quiet_worker(worker_id: int) -> None:
    """``worker_init_fn`` for DataLoader workers: leave Ctrl-C/SIGTERM to the main process, die with it.

    Every bundle's data loaders use it (``worker_init_fn``). Ctrl-C in a terminal reaches the whole process group;
    the main process then shuts its workers down itself.
    On Linux a worker is also killed when the main process dies without doing so (``kill -9``). A worker hands
    tensors over through a ``multiprocessing`` resource-sharer thread, which reports a connection dropped by the
    stopping main process through ``sys.excepthook``: in a worker that goes to the log, not to the console.
    """
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    sys.excepthook = _log_helper_thread_error
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
