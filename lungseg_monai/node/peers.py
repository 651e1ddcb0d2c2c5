"""The DICOM peers of a node: where SEGs are sent (``AE@host:port``) and who may send films (``AE[@host]``)."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from lungseg_monai.inference.usage import UsageError

__all__ = ["AllowedPeer", "RemoteNode", "check_ae_title"]


def check_ae_title(option: str, title: str) -> str:
    """Return ``title`` if it is a valid AE title (1-16 characters, no backslash or control characters).

    Raises:
        UsageError: naming ``option`` and the problem.

    """
    if not title.strip() or len(title) > 16 or "\\" in title or not title.isprintable():
        raise UsageError(f"{option} {title!r}: an AE title has 1 to 16 printable characters and no backslash")
    return title


@dataclass(frozen=True)
class RemoteNode:
    """A DICOM node to send to: its AE title, host and port (``--forward-to PACS@10.0.0.5:104``, ``PACS@[::1]:104``)."""

    ae_title: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.ae_title}@{self.host}:{self.port}"

    @classmethod
    def parse(cls, text: str, option: str = "--forward-to") -> RemoteNode:
        """Read ``AE@host:port``.

        Raises:
            UsageError: another form, an invalid AE title or a port outside 1-65535.

        """
        title, at, address = text.partition("@")
        host, colon, port = address.rpartition(":")
        if not (at and colon and host and port.isdigit() and 0 < int(port) < 65536):
            raise UsageError(f"{option} {text}: expected AE@host:port, e.g. PACS@10.0.0.5:104")
        return cls(check_ae_title(option, title), host.removeprefix("[").removesuffix("]"), int(port))


@dataclass(frozen=True)
class AllowedPeer:
    """A peer allowed to open associations: an AE title, from any host or from one host (``--allow PACS@10.0.0.5``).

    A host name is resolved once, when the option is read; the peer's address must be one of its addresses.
    """

    ae_title: str
    host: str | None = None
    addresses: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str) -> AllowedPeer:
        """Read ``AE`` or ``AE@host`` (an IP address or a name).

        Raises:
            UsageError: an invalid AE title, an empty host or a name that does not resolve.

        """
        title, at, host = text.partition("@")
        if at and not host:
            raise UsageError(f"--allow {text}: expected AE or AE@host")
        title = check_ae_title("--allow", title)
        if not host:
            return cls(title)
        try:
            found = {info[4][0] for info in socket.getaddrinfo(host, None)}
        except OSError as err:
            raise UsageError(f"--allow {text}: host {host} cannot be resolved ({err})") from err
        return cls(title, host, frozenset(found))

    def admits(self, ae_title: str, address: str) -> bool:
        """Whether a peer calling as ``ae_title`` from IP ``address`` is this one."""
        return ae_title.strip() == self.ae_title.strip() and (self.host is None or address in self.addresses)
