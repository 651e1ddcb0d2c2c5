"""Ctrl-C and SIGTERM from a command's start to its exit: a clean stop and a settled exit code, never death by signal.

A command (``lungseg``, ``lungseg serve``, ``python -m monai.bundle run``) calls :func:`hold_until_exit` first; code
run in-process (a test, a notebook) uses :func:`handled` for a block instead, which puts the previous handlers back
at its end. While held, SIGINT and SIGTERM are handled here, by where the run is:

- **work with a stop callback** (:func:`stop_callback`, e.g. a folder run's ``engine.terminate``): the first signal
  asks the work to stop at its next safe point; a second raises ``KeyboardInterrupt``;
- **a summary being written** (:func:`deferred`) **or an outcome settled** (:func:`settle`): noted, nothing else;
  the process ends with the run's own exit code;
- **anywhere else**: ``KeyboardInterrupt``, which the command reports as exit 130.

``KeyboardInterrupt`` is raised at most once: a signal that comes while the process already unwinds towards exit 130
is only noted, so it cannot break the code that reports the interrupt. An interrupt that lands where Python can only
swallow it (a ``__del__``, an ``os.register_at_fork`` callback such as ``logging``'s when a ``DataLoader`` forks its
workers) reaches :func:`_log_unraisable`, which delivers the signal again, so that Ctrl-C is never lost. The handler
is never set back to the default action while held, so a signal in the last moments of a run (the summary written,
the interpreter shutting down) cannot kill the process. Only the standard library is imported here.
"""

from __future__ import annotations

import _thread
import atexit
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

__all__ = [
    "PAUSE_VARIABLE",
    "STOP_SIGNALS",
    "deferred",
    "handled",
    "hold_until_exit",
    "pause_point",
    "running_as_module",
    "settle",
    "stop_callback",
    "wait_for",
]

logger = logging.getLogger(__name__)

#: The signals a command handles here: Ctrl-C and a polite kill.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Test hook: ``LUNGSEG_PAUSE_AT=<stage>`` makes :func:`pause_point` of that stage wait for a stop signal.
PAUSE_VARIABLE = "LUNGSEG_PAUSE_AT"
_PAUSE_SECONDS_VARIABLE = "LUNGSEG_PAUSE_SECONDS"
_POLL_SECONDS = 0.05


@dataclass
class _State:
    """Where the process stands with respect to stop signals (main thread only)."""

    depth: int = 0  # open handled() blocks
    held: bool = False  # installed until the process exits
    previous: dict[int, Any] = field(default_factory=dict)
    stops: list[Callable[[], None]] = field(default_factory=list)
    stop_requested: bool = False  # the innermost stop callback has been called
    deferring: int = 0
    settled: bool = False
    raised: KeyboardInterrupt | None = None  # the interrupt raised, while the process unwinds towards exit 130
    raised_by: int = signal.SIGINT  # the signal behind it
    seen: int = 0  # stop signals received (a count: a handler must take no lock, see wait_for)
    unraisable_hook: Callable[[Any], None] | None = None  # the hook before an interrupt replaced it

    def reset(self) -> None:
        self.stops.clear()
        self.stop_requested = self.settled = False
        self.raised = None
        self.deferring = 0
        if self.unraisable_hook is not None:
            sys.unraisablehook, self.unraisable_hook = self.unraisable_hook, None


_STATE = _State()


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    _STATE.seen += 1
    if _STATE.settled or _STATE.deferring or _STATE.raised:
        logger.info("%s received while the run ends; its outcome stands", name)
        return
    if _STATE.stops and not _STATE.stop_requested:
        _STATE.stop_requested = True
        _STATE.stops[-1]()
        return
    _STATE.raised, _STATE.raised_by = KeyboardInterrupt(f"signal {name}"), signum
    if _STATE.unraisable_hook is None:
        _STATE.unraisable_hook = sys.unraisablehook
        sys.unraisablehook = _log_unraisable
    raise _STATE.raised


def _deliver_again(signum: int) -> None:
    """Deliver ``signum`` to the main thread once the code that swallowed its interrupt has returned."""
    time.sleep(0.01)
    _thread.interrupt_main(signum)


def _log_unraisable(unraisable: Any) -> None:
    """After an interrupt, log what the clean-up of half-built objects raises instead of printing it.

    An interrupt while a ``DataLoader`` starts its worker processes leaves an iterator whose ``__del__`` fails
    (``no attribute '_workers'``); Python prints that as "Exception ignored in ..." with a traceback, under the
    one line that reports the interrupt. The interrupt itself swallowed this way (it was raised inside a
    ``__del__`` or an at-fork callback) would leave the run going on as if Ctrl-C had never come: the signal is
    delivered again from a helper thread, and its handler raises a new interrupt in the code that runs next.
    """
    if unraisable.exc_value is not None and unraisable.exc_value is _STATE.raised:
        logger.debug("the interrupt was swallowed in %r; delivering it again", unraisable.object)
        _STATE.raised = None
        threading.Thread(target=_deliver_again, args=(_STATE.raised_by,), name="interrupt-again", daemon=True).start()
        return
    trace = (unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback)
    logger.debug("after the interrupt: %s %r", unraisable.err_msg or "exception ignored in", unraisable.object,
                 exc_info=trace)  # fmt: skip


def _install() -> None:
    _STATE.previous = {signum: signal.signal(signum, _on_stop_signal) for signum in STOP_SIGNALS}


def hold_until_exit() -> None:
    """Handle SIGINT and SIGTERM here from now until the process exits (a command's first step; main thread)."""
    if not _in_main_thread() or _STATE.held:
        return
    if _STATE.depth == 0:
        _install()
    _STATE.held = True
    atexit.register(_ignore_from_here_on)  # registered first, so it runs last of the exit hooks


def _ignore_from_here_on() -> None:
    """Ignore stop signals for the last moments of the process: its outcome is settled, its exit code chosen.

    After the exit hooks, Python's finalization puts the default action back for every signal with a Python
    handler; a Ctrl-C in that instant killed a finished run (exit -2 instead of its own code; seen once in CI).
    An ignored signal keeps being ignored through finalization.
    """
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


@contextmanager
def handled() -> Iterator[None]:
    """Handle SIGINT and SIGTERM here within the block; the outermost block of an unheld process restores them.

    A no-op outside the main thread, where Python runs no signal handler.
    """
    if not _in_main_thread():
        yield
        return
    if _STATE.depth == 0 and not _STATE.held:
        _install()
    _STATE.depth += 1
    try:
        yield
    finally:
        _STATE.depth -= 1
        if _STATE.depth == 0 and not _STATE.held:
            for signum, handler in _STATE.previous.items():
                signal.signal(signum, handler)
            _STATE.reset()


@contextmanager
def stop_callback(stop: Callable[[], None]) -> Iterator[None]:
    """Within the block the first stop signal calls ``stop()``; a second raises ``KeyboardInterrupt``.

    ``stop`` should only ask the work to end at its next safe point (``engine.terminate()``), so that nothing is
    cut off in the middle of a write. It runs inside the signal handler, between two steps of whatever the main
    thread was doing: it must not wait for a lock that the main thread may hold (set an event that the main thread
    awaits with :func:`wait_for`, never with ``Event.wait``). A no-op outside the main thread.
    """
    if not _in_main_thread():
        yield
        return
    with handled():
        outer_request = _STATE.stop_requested
        _STATE.stops.append(stop)
        _STATE.stop_requested = False
        try:
            yield
        finally:
            _STATE.stops.pop()
            _STATE.stop_requested = outer_request


@contextmanager
def deferred() -> Iterator[None]:
    """Only note stop signals within the block: the short wind-down that writes a run's summary."""
    if not _in_main_thread():
        yield
        return
    with handled():
        _STATE.deferring += 1
        try:
            yield
        finally:
            _STATE.deferring -= 1


def settle() -> None:
    """Mark the run's outcome as final: later stop signals are only noted (until the outermost block ends)."""
    if _in_main_thread() and (_STATE.held or _STATE.depth):
        _STATE.settled = True


def wait_for(event: threading.Event, timeout: float | None = None) -> bool:
    """Wait for ``event`` in the main thread so that a stop signal is handled at once; return whether it is set.

    The wait never holds the event's lock: a stop callback that sets the event (``lungseg serve``'s) runs in the
    signal handler, in the main thread, and ``Event.wait`` holds a plain lock for a moment on each call: a signal
    in that moment would make ``set`` wait for a lock that its own thread holds, forever. So this polls
    ``is_set`` (which takes no lock) between short sleeps instead. The sleeps also bound the delay of a signal that
    Linux delivered to another thread: Python runs its handler in the main thread only once that thread runs
    Python code again.
    """
    return _poll(event.is_set, timeout)


def _poll(done: Callable[[], bool], timeout: float | None) -> bool:
    """Sleep in slices of at most 50 ms until ``done()`` or ``timeout`` seconds; return ``done()``."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not done():
        remaining = _POLL_SECONDS if deadline is None else min(_POLL_SECONDS, deadline - time.monotonic())
        if remaining <= 0:
            return False
        time.sleep(remaining)
    return True


def running_as_module(name: str) -> bool:
    """Return True when this process is ``python -m <name>`` (e.g. ``monai.bundle``)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return spec is not None and spec.name in (name, f"{name}.__main__")


def pause_point(stage: str) -> None:
    """Test hook: with ``LUNGSEG_PAUSE_AT=<stage>``, say so on stderr and wait here for a stop signal.

    The wait ends when a signal arrives or after ``LUNGSEG_PAUSE_SECONDS`` (10 by default), so that a test can
    send a signal at exactly this point of a real run. Without the variable this does nothing.
    """
    if os.environ.get(PAUSE_VARIABLE) != stage:
        return
    seen = _STATE.seen
    print(f"lungseg: paused at {stage}", file=sys.stderr, flush=True)
    _poll(lambda: _STATE.seen > seen, float(os.environ.get(_PAUSE_SECONDS_VARIABLE, "10")))
