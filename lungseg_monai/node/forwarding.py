"""Send files to a DICOM node by C-STORE (a node's SEGs to the PACS), and remember what was sent."""

from __future__ import annotations

import logging
import socket
from datetime import datetime, timezone
from pathlib import Path

import pydicom
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.sop_class import SegmentationStorage

from lungseg_monai.data.atomic_writes import write_json
from lungseg_monai.node.peers import RemoteNode

__all__ = ["ForwardError", "SegForwarder"]

logger = logging.getLogger(__name__)

#: C-STORE statuses that mean stored: success and the warnings (coercion, elements discarded, not validated).
_STORED = {0x0000, 0xB000, 0xB006, 0xB007}


class ForwardError(RuntimeError):
    """A file could not be sent; the message says what the peer answered or why no association was made."""


class SegForwarder:
    """Send DICOM SEG files to ``target`` by C-STORE, each in its own association, and mark those sent.

    A mark ``<marks>/<source>.json`` (destination, SOP instance UID, time) is written after the peer confirmed
    the store, so a restarted node sends again exactly the SEGs that were not confirmed.

    Args:
        target: the node to send to.
        calling_ae_title: this node's AE title.
        marks: the folder of marks.
        timeout: seconds to wait for the peer (association, answers).

    """

    def __init__(self, target: RemoteNode, calling_ae_title: str, marks: Path, timeout: float = 30.0) -> None:
        self.target, self.marks = target, marks
        self._ae = AE(ae_title=calling_ae_title)
        self._ae.add_requested_context(SegmentationStorage, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
        for attribute in ("acse_timeout", "dimse_timeout", "network_timeout"):
            setattr(self._ae, attribute, timeout)

    def mark_path(self, source: str) -> Path:
        """Return the mark of the film ``source`` (its path in the spool)."""
        return self.marks / f"{source}.json"

    def is_sent(self, source: str) -> bool:
        """Whether the SEG of film ``source`` was confirmed by the peer."""
        return self.mark_path(source).is_file()

    def send(self, seg: Path, source: str) -> None:
        """Send ``seg`` (the SEG of film ``source``) and mark it sent.

        Raises:
            ForwardError: no association, or the peer did not confirm the store.

        """
        dataset = pydicom.dcmread(seg)
        assoc = self._ae.associate(self.target.host, self.target.port, ae_title=self.target.ae_title)
        if not assoc.is_established:
            raise ForwardError(f"{self.target}: association {_failure(assoc, self.target)}")
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
                "sent": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            },
        )


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


def _failure(assoc: object, target: RemoteNode | None = None) -> str:
    """Say why an association was not made: rejected (with the peer's reason), connection refused, or no answer."""
    if getattr(assoc, "is_rejected", False):
        primitive = getattr(getattr(assoc, "acceptor", None), "primitive", None)
        source, diagnostic = getattr(primitive, "result_source", None), getattr(primitive, "diagnostic", None)
        permanence = "permanently" if getattr(primitive, "result", None) == 1 else "for now"
        return f"rejected {permanence}: {_REJECTIONS.get((source, diagnostic), f'reason {source}/{diagnostic}')}"
    if target is not None:
        try:
            with socket.create_connection((target.host, target.port), timeout=10):
                pass
        except ConnectionRefusedError:
            return "could not be made: connection refused (nothing listens on that port)"
        except OSError as err:
            return f"could not be made: {err.strerror or err}"
    if getattr(assoc, "is_aborted", False):
        return "aborted"
    return "could not be made (no answer)"
