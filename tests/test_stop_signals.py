"""stop_signals in-process: what a SIGTERM or SIGINT does at each state (the real runs are in tests/inference)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from lungseg_monai import stop_signals


def _signal(signum: int = signal.SIGTERM) -> None:
    os.kill(os.getpid(), signum)
    time.sleep(0.05)  # the handler runs in this (the main) thread at its next bytecode


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_outside_any_run_is_a_keyboard_interrupt_and_the_handlers_come_back(signum):
    before = signal.getsignal(signum)
    with pytest.raises(KeyboardInterrupt, match=signal.Signals(signum).name), stop_signals.handled():
        _signal(signum)
    assert signal.getsignal(signum) is before


def test_a_keyboard_interrupt_is_raised_once_then_signals_are_only_noted():
    with stop_signals.handled():
        with pytest.raises(KeyboardInterrupt):
            _signal()
        _signal()  # the process is already on its way out: nothing is raised while it reports the interrupt
        _signal(signal.SIGINT)


def test_the_first_signal_calls_stop_and_the_second_raises():
    calls = []
    with stop_signals.handled(), stop_signals.stop_callback(lambda: calls.append("stop")):
        _signal()
        assert calls == ["stop"]
        with pytest.raises(KeyboardInterrupt):
            _signal()
    assert calls == ["stop"]


def test_signals_are_only_noted_while_deferred_and_once_settled():
    calls = []
    with stop_signals.handled(), stop_signals.stop_callback(lambda: calls.append("stop")):
        with stop_signals.deferred():
            _signal()
        assert calls == []
        stop_signals.settle()
        _signal()
        _signal(signal.SIGINT)
    assert calls == []


def test_a_settled_outcome_ends_with_its_block_in_process():
    with stop_signals.handled():
        stop_signals.settle()
        _signal()
    with pytest.raises(KeyboardInterrupt), stop_signals.handled():  # a new block starts unsettled
        _signal()


def test_pause_point_waits_for_a_signal_only_at_its_stage(monkeypatch, capsys):
    monkeypatch.setenv(stop_signals.PAUSE_VARIABLE, "summary-write")
    monkeypatch.setenv("LUNGSEG_PAUSE_SECONDS", "30")
    start = time.monotonic()
    stop_signals.pause_point("iteration")  # another stage: returns at once, says nothing
    assert capsys.readouterr().err == ""
    with stop_signals.handled(), stop_signals.deferred():
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        previous = signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGTERM))
        try:
            stop_signals.pause_point("summary-write")
        finally:
            signal.signal(signal.SIGALRM, previous)
    assert capsys.readouterr().err == "lungseg: paused at summary-write\n"
    assert time.monotonic() - start < 10  # the signal ended the wait, not the 30 s limit


class _FailsWhenCollected:
    def __del__(self):
        raise AttributeError("no attribute '_workers'")  # as a DataLoader iterator interrupted while starting


def test_after_an_interrupt_clean_up_errors_go_to_the_log_not_the_console(capsys, caplog):
    before = sys.unraisablehook
    with caplog.at_level(logging.DEBUG, logger="lungseg_monai.stop_signals"), stop_signals.handled():
        with pytest.raises(KeyboardInterrupt):
            _signal()
        half_built = _FailsWhenCollected()
        del half_built
    assert "no attribute '_workers'" not in capsys.readouterr().err
    assert "after the interrupt" in caplog.text and "_workers" in caplog.text
    assert sys.unraisablehook is before


class _InterruptedWhenCollected:
    def __del__(self):  # as logging's at-fork callback when Ctrl-C comes while a DataLoader forks its workers
        _signal(signal.SIGINT)


def test_an_interrupt_that_python_swallows_is_delivered_again(capsys):
    before = sys.unraisablehook
    with pytest.raises(KeyboardInterrupt, match="SIGINT"), stop_signals.handled():
        collected = _InterruptedWhenCollected()
        del collected  # the handler raises inside __del__, where Python can only print and drop the interrupt
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the run goes on: the interrupt must come again here
            time.sleep(0.01)
    assert "Exception ignored" not in capsys.readouterr().err
    assert sys.unraisablehook is before


def test_a_signal_that_lands_on_another_thread_still_ends_a_wait_at_once():
    stopping = threading.Event()

    def signal_this_thread() -> None:  # Linux may deliver a process's signal to any of its threads
        time.sleep(0.3)
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    helper = threading.Thread(target=signal_this_thread)
    start = time.monotonic()
    with stop_signals.handled(), stop_signals.stop_callback(stopping.set):
        helper.start()
        assert stop_signals.wait_for(stopping, timeout=30)
    helper.join()
    assert time.monotonic() - start < 5  # not the 30 s a single blocking wait would take


_SIGNAL_WHILE_THE_EVENT_IS_LOCKED = """
import os, signal, sys, threading, time
from lungseg_monai import stop_signals

class SignalWhileWaitHoldsIt:
    # The event's lock: when Event.wait takes it in the main thread, a SIGTERM comes while it holds it.
    def __init__(self):
        self.lock, self.fired = threading.Lock(), False
    def acquire(self, *args):
        got = self.lock.acquire(*args)
        in_wait = sys._getframe(2).f_code.co_name == "wait"  # Event.wait -> Condition.__enter__ -> here
        if got and in_wait and not self.fired and threading.current_thread() is threading.main_thread():
            self.fired = True
            signal.raise_signal(signal.SIGTERM)  # its handler runs now, before this acquire returns
        return got
    __enter__ = acquire
    def release(self):
        self.lock.release()
    def __exit__(self, *exc):
        self.release()

def signal_later_unless_fired():  # a wait that never takes the lock still gets its signal
    time.sleep(0.5)
    if not lock.fired:
        lock.fired = True
        os.kill(os.getpid(), signal.SIGTERM)

stopping, lock = threading.Event(), SignalWhileWaitHoldsIt()
stopping._cond = threading.Condition(lock)
threading.Thread(target=signal_later_unless_fired, daemon=True).start()
with stop_signals.handled(), stop_signals.stop_callback(stopping.set):
    print("ended", stop_signals.wait_for(stopping, timeout=5), flush=True)
"""


def test_a_signal_that_comes_while_the_event_is_locked_still_ends_the_wait():
    """The stop callback sets the awaited event inside the signal handler: ``wait_for`` must not hold its lock.

    A ``threading.Event`` takes a plain lock in ``wait`` and ``set``; a handler that sets the event while the main
    thread is inside ``wait`` would wait for itself forever (``lungseg serve`` on SIGTERM, the folder runs' pause).
    """
    result = subprocess.run([sys.executable, "-c", _SIGNAL_WHILE_THE_EVENT_IS_LOCKED], capture_output=True,
                            text=True, timeout=20)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == "ended True\n"


_SIGNAL_AT_THE_VERY_END = """
import atexit, os, signal
from lungseg_monai import stop_signals

def last_moment():  # registered before the command holds the signals: runs after its exit hook
    print("ignored" if signal.getsignal(signal.SIGINT) is signal.SIG_IGN else "handled", flush=True)
    os.kill(os.getpid(), signal.SIGINT)

atexit.register(last_moment)
stop_signals.hold_until_exit()
stop_signals.settle()
raise SystemExit(3)
"""


def test_a_signal_in_the_last_moments_of_a_command_leaves_its_exit_code():
    """After the exit hooks Python restores the default action of handled signals; ignored ones stay ignored."""
    result = subprocess.run([sys.executable, "-c", _SIGNAL_AT_THE_VERY_END], capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert (result.returncode, result.stdout) == (3, "ignored\n"), result.stderr[-2000:]
