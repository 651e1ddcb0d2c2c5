"""Signals during a folder run: SIGTERM stops it like Ctrl-C, and worker processes leave the stopping to it."""

from __future__ import annotations

import ctypes
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType

__all__ = ["sigterm_as_keyboard_interrupt", "signals_ignored", "stop_signals_call", "quiet_worker"]

logger = logging.getLogger(__name__)
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_PR_SET_PDEATHSIG = 1


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def sigterm_as_keyboard_interrupt() -> Iterator[None]:
    """Within the block SIGTERM raises ``KeyboardInterrupt``, as Ctrl-C does (a no-op outside the main thread)."""
    if not _in_main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def stop_signals_call(stop: Callable[[], None]) -> Iterator[None]:
    """Within the block the first Ctrl-C or SIGTERM calls ``stop()``; a second raises ``KeyboardInterrupt``.

    ``stop`` should only ask the work to end at its next safe point (``engine.terminate()``); nothing is cut off
    in the middle of a write. A no-op outside the main thread.
    """
    if not _in_main_thread():
        yield
        return
    received: list[int] = []

    def _handle(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if len(received) > 1:
            _raise_keyboard_interrupt(signum, frame)
        stop()

    previous = {signum: signal.signal(signum, _handle) for signum in _STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def signals_ignored() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM within the block: the short wind-down that writes the run summary."""
    if not _in_main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in _STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _log_helper_thread_error(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
    logger.debug("a helper thread of a DataLoader worker stopped", exc_info=(kind, error, trace))


def quiet_worker(worker_id: int) -> None:
    """``worker_init_fn`` for DataLoader workers: leave Ctrl-C/SIGTERM to the main process, die with it.

    Ctrl-C in a terminal reaches the whole process group; the main process then shuts its workers down itself.
    On Linux a worker is also killed when the main process dies without doing so (``kill -9``). A worker hands
    tensors over through a ``multiprocessing`` resource-sharer thread, which reports a connection dropped by the
    stopping main process through ``sys.excepthook``: in a worker that goes to the log, not to the console.
    """
    for signum in _STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    sys.excepthook = _log_helper_thread_error
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
