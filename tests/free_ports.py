"""A free loopback TCP port for a test's server or torchrun rendezvous (no fixed port two runs could share)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """Return a port the OS has just handed out and released (free unless another process takes it first)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
