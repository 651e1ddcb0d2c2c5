"""Polling for what another thread or process does, for tests that wait on a node, a run or a peer."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    timeout: float,
    what: str | Callable[[], str],
    interval: float = 0.2,
    process: subprocess.Popen | None = None,
) -> T:
    """Return ``condition()``'s first true value, asked every ``interval`` seconds.

    Fails the test (``AssertionError`` naming ``what``, or what a callable ``what`` says then) after ``timeout``
    seconds, or as soon as ``process``, the process expected to bring it about, has exited.
    """
    said = what if callable(what) else lambda: what
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert process is None or process.poll() is None, f"the process exited ({process.returncode}) before {said()}"
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {said()}"
        time.sleep(interval)
    return value
