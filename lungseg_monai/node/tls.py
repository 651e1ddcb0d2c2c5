"""TLS for the node: DICOM TLS for ``lungseg serve`` and its forwarder, and HTTPS trust for ``segment-study``.

Certificates and keys are PEM files. A node with a certificate and key speaks only TLS (TLS 1.2 or later); with a
CA file it also requires each peer to present a certificate that CA signed (mutual TLS). A client (the
forwarder) verifies the server's certificate against a CA file and, when given one, presents its own.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["TlsError", "client_context", "server_context"]


class TlsError(ValueError):
    """A certificate, key or CA file that cannot be used; the message names the file and the problem."""


def _load(action: str, *paths: Path | None) -> None:
    for path in paths:
        if path is not None and not Path(path).is_file():
            raise TlsError(f"{path}: no such file ({action})")


class _ReportingSocket(ssl.SSLSocket):
    """A server-side TLS socket that reports a failed handshake (pynetdicom drops the connection without a word)."""

    def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
        try:
            data = super().recv(buflen, flags)
        except ssl.SSLError as err:
            hook = getattr(self.context, "on_handshake_failure", None)
            # Before any data: the handshake failed (with TLS 1.3 a refused client certificate shows at this read)
            if hook is not None and not getattr(self, "_lungseg_data_read", False):
                try:
                    peer = "{}:{}".format(*self.getpeername()[:2])
                except OSError:
                    peer = "?"
                hook(peer, str(err.reason or err))
            raise
        self._lungseg_data_read = True
        return data


class _HandshakeInTheAssociation(ssl.SSLContext):
    """A server context whose sockets do their TLS handshake on first use, in the association's own thread.

    pynetdicom wraps each accepted connection in its accept loop; with the default handshake-on-wrap, one peer that
    connects and sends nothing held the loop, and so the whole node, for good (measured: a second peer could not
    associate). Here the handshake happens when the association first reads, bounded by its timeouts. A failed
    handshake calls :attr:`on_handshake_failure` ``(peer "host:port", reason)`` when set (the node logs and audits).
    """

    sslsocket_class = _ReportingSocket
    on_handshake_failure: Callable[[str, str], None] | None = None

    def wrap_socket(self, sock: socket.socket, *args: Any, **kwargs: Any) -> ssl.SSLSocket:  # type: ignore[override]
        kwargs["do_handshake_on_connect"] = False
        return super().wrap_socket(sock, *args, **kwargs)


def server_context(cert: Path, key: Path, client_ca: Path | None = None) -> ssl.SSLContext:
    """Return the context of a DICOM TLS server; with ``client_ca``, peers must present a certificate it signed.

    Raises:
        TlsError: a file is missing, or is not a PEM certificate, key or CA that fit together.

    """
    _load("TLS certificate, key or CA", cert, key, client_ca)
    context = _HandshakeInTheAssociation(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as err:
        raise TlsError(f"{cert} / {key}: not a certificate and its private key ({_reason(err)})") from None
    if client_ca is not None:
        _trust(context, client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_context(ca: Path, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    """Return the context of a TLS client that verifies the server against ``ca`` (and presents ``cert``, if given).

    Raises:
        TlsError: a file is missing or unusable.

    """
    _load("TLS CA, certificate or key", ca, cert, key)
    try:  # only the CA given is trusted, not the system's
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca))
    except (ssl.SSLError, OSError) as err:
        raise TlsError(f"{ca}: not a PEM CA certificate ({_reason(err)})") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert is not None:
        try:
            context.load_cert_chain(cert, key)
        except (ssl.SSLError, OSError) as err:
            raise TlsError(f"{cert} / {key}: not a certificate and its private key ({_reason(err)})") from None
    return context


def _trust(context: ssl.SSLContext, ca: Path) -> None:
    try:
        context.load_verify_locations(cafile=ca)
    except (ssl.SSLError, OSError) as err:
        raise TlsError(f"{ca}: not a PEM CA certificate ({_reason(err)})") from None


def _reason(err: Exception) -> str:
    return getattr(err, "reason", None) or getattr(err, "strerror", None) or str(err)
