"""Test helper: an HTTPS front for a plain-HTTP server on loopback (Debian's Orthanc 1.10 crashes on its own HTTPS)."""

from __future__ import annotations

import selectors
import socket
import ssl
import threading

from dicom_peers import free_port


class TlsProxy:
    """Accept TLS connections on a free port and relay each, decrypted, to ``127.0.0.1:<target_port>``."""

    def __init__(self, context: ssl.SSLContext, target_port: int) -> None:
        self.context, self.target_port, self.port = context, target_port, free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        client.settimeout(30)
        try:
            secure = self.context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):  # a client that does not trust us: its side reports it
            client.close()
            return
        with secure, socket.create_connection(("127.0.0.1", self.target_port)) as upstream:
            selector = selectors.DefaultSelector()
            selector.register(secure, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, secure)
            while not self._stopping.is_set():
                for key, _ in selector.select(timeout=0.5):
                    try:
                        data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    except (ssl.SSLWantReadError, BlockingIOError):
                        continue
                    except OSError:
                        return
                    if not data:
                        return
                    key.data.sendall(data)
                if secure.pending():  # decrypted bytes already read from the socket wait in the TLS buffer
                    upstream.sendall(secure.recv(secure.pending()))

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()
        self._listener.close()
