"""Send files to a DICOM node by C-STORE (a node's SEGs to the PACS), and remember what was sent."""

from __future__ import annotations

import logging
import socket
import ssl
from pathlib import Path

import pydicom
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.sop_class import SegmentationStorage

from lungseg_monai.data.atomic_writes import write_json
from lungseg_monai.inference.provenance import read_record
from lungseg_monai.node.json_lines import utc_now
from lungseg_monai.node.peers import RemoteNode

__all__ = ["ForwardError", "SegForwarder"]

logger = logging.getLogger(__name__)

#: C-STORE statuses that mean stored: success and the warnings (coercion, elements discarded, not validated).
_STORED = {0x0000, 0xB000, 0xB006, 0xB007}


class ForwardError(RuntimeError):
    """A file could not be sent; the message says what the peer answered or why no association was made."""


class SegForwarder:
    """Send DICOM SEG files to ``target`` by C-STORE, each in its own association, and mark those sent.

    A mark ``<marks>/<source>.json`` (destination, SEG name and SOP instance UID, the film's SHA-256, time) is
    written after the peer confirmed the store, so a restarted node sends again exactly the SEGs that were not
    confirmed, and the new SEG of a film whose content changed.

    Args:
        target: the node to send to.
        calling_ae_title: this node's AE title.
        marks: the folder of marks.
        timeout: seconds to wait for the peer (association, answers).
        tls: speak DICOM TLS with this client context (:func:`~lungseg_monai.node.tls.client_context`): the peer's
            certificate is verified against its CA, and its host name or address must match the certificate.

    """

    def __init__(
        self,
        target: RemoteNode,
        calling_ae_title: str,
        marks: Path,
        timeout: float = 30.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.target, self.marks, self.tls = target, marks, tls
        self._ae = AE(ae_title=calling_ae_title)
        self._ae.add_requested_context(SegmentationStorage, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
        for attribute in ("acse_timeout", "dimse_timeout", "network_timeout"):
            setattr(self._ae, attribute, timeout)

    def mark_path(self, source: str) -> Path:
        """Return the mark of the film ``source`` (its path in the spool)."""
        return self.marks / f"{source}.json"

    def is_sent(self, source: str, source_sha256: str | None = None) -> bool:
        """Whether the peer confirmed the SEG of film ``source`` (of the content ``source_sha256``, when given).

        A film received again with other content gets a new SEG: its mark names the earlier content, so the new
        SEG counts as not sent.
        """
        mark = read_record(self.mark_path(source))
        return mark is not None and (source_sha256 is None or mark.get("source_sha256") in (None, source_sha256))

    def send(self, seg: Path, source: str, source_sha256: str | None = None) -> str:
        """Send ``seg`` (the SEG of film ``source``, whose content has ``source_sha256``) and mark it sent.

        Returns:
            the SEG's SOP Instance UID.

        Raises:
            ForwardError: no association, or the peer did not confirm the store.

        """
        dataset = pydicom.dcmread(seg)
        tls_args = (self.tls, self.target.host) if self.tls is not None else None
        assoc = self._ae.associate(self.target.host, self.target.port, ae_title=self.target.ae_title,
                                   tls_args=tls_args)  # fmt: skip
        if not assoc.is_established:
            raise ForwardError(f"{self.target}: association {_failure(assoc, self.target, self.tls)}")
        try:
            status = assoc.send_c_store(dataset)
        finally:
            assoc.release()
        code = int(status.Status) if status and "Status" in status else None
        if code not in _STORED:
            answer = "no answer" if code is None else f"status 0x{code:04X}"
            raise ForwardError(f"{self.target}: C-STORE of {seg.name} not confirmed ({answer})")
        write_json(
            self.mark_path(source),
            {
                "destination": str(self.target),
                "seg": seg.name,
                "sop_instance_uid": str(dataset.SOPInstanceUID),
                "source_sha256": source_sha256,
                "sent": utc_now(),
            },
        )
        return str(dataset.SOPInstanceUID)


#: A-ASSOCIATE-RJ (source, diagnostic) -> what it says (PS3.8 table 9-21).
_REJECTIONS = {
    (1, 1): "no reason given",
    (1, 2): "application context name not supported",
    (1, 3): "calling AE title not recognised",
    (1, 7): "called AE title not recognised",
    (2, 1): "no reason given (ACSE)",
    (2, 2): "protocol version not supported",
    (3, 1): "temporary congestion",
    (3, 2): "local limit exceeded",
}


def _failure(assoc: object, target: RemoteNode | None = None, tls: ssl.SSLContext | None = None) -> str:
    """Say why an association was not made: rejected (with the peer's reason), connection refused, TLS, no answer.

    pynetdicom logs a failed TLS handshake and goes on as if the peer had aborted: the handshake is tried once more
    here to name its cause (an untrusted certificate, a peer that does not speak TLS).
    """
    if getattr(assoc, "is_rejected", False):
        primitive = getattr(getattr(assoc, "acceptor", None), "primitive", None)
        source, diagnostic = getattr(primitive, "result_source", None), getattr(primitive, "diagnostic", None)
        permanence = "permanently" if getattr(primitive, "result", None) == 1 else "for now"
        return f"rejected {permanence}: {_REJECTIONS.get((source, diagnostic), f'reason {source}/{diagnostic}')}"
    if target is not None:
        try:
            with socket.create_connection((target.host, target.port), timeout=10) as connection:
                if tls is not None:
                    tls.wrap_socket(connection, server_hostname=target.host).close()
        except ssl.SSLCertVerificationError as err:
            return (
                f"could not be made: TLS handshake failed (the peer's certificate is not trusted: {err.verify_message})"
            )
        except ssl.SSLError as err:
            return f"could not be made: TLS handshake failed ({err.reason or err})"
        except ConnectionRefusedError:
            return "could not be made: connection refused (nothing listens on that port)"
        except OSError as err:
            return f"could not be made: {err.strerror or err}"
    if getattr(assoc, "is_aborted", False):
        return "aborted"
    return "could not be made (no answer)"
