"""Signals in a folder run's worker processes: they leave Ctrl-C and SIGTERM to the main process.

The main process handles them with :mod:`lungseg_monai.stop_signals`.
"""

from __future__ import annotations

import ctypes
import logging
import signal
import sys
from types import TracebackType

from lungseg_monai.stop_signals import STOP_SIGNALS

__all__ = ["quiet_worker"]

logger = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


def _log_helper_thread_error(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
    logger.debug("a helper thread of a DataLoader worker stopped", exc_info=(kind, error, trace))


def quiet_worker(worker_id: int) -> None:
    """``worker_init_fn`` for DataLoader workers: leave Ctrl-C/SIGTERM to the main process, die with it.

    Ctrl-C in a terminal reaches the whole process group; the main process then shuts its workers down itself.
    On Linux a worker is also killed when the main process dies without doing so (``kill -9``). A worker hands
    tensors over through a ``multiprocessing`` resource-sharer thread, which reports a connection dropped by the
    stopping main process through ``sys.excepthook``: in a worker that goes to the log, not to the console.
    """
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    sys.excepthook = _log_helper_thread_error
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
