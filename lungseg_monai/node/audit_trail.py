"""``audit.jsonl``: who sent what to the node, and where its SEGs went, in the spirit of IHE ATNA.

One JSON line per association (when it ends or is refused), per film offered by C-STORE (when it is answered) and
per SEG sent on (when the peer confirmed it or did not). No patient data: only AE titles, addresses and UIDs.

Fields (``null`` where an event has no such fact):

- ``time``: UTC, ISO 8601 to the second; ``event``: ``association``, ``film`` or ``seg``;
- ``calling_ae``, ``called_ae``, ``peer_address`` (``host:port``): the association's parties (``seg``: this node
  is the caller, ``peer_address`` is the destination; a connection refused in the TLS handshake has no AE titles);
- ``sop_instance_uid``: the film's (``film``, ``seg``); ``seg_sop_instance_uid``: the SEG's (``seg``);
- ``bytes``: the film's size as received and kept (a DICOM file: preamble, file meta, data set; ``film``), the
  SEG file's (``seg``), that of all films stored (``association``);
- ``outcome``: ``association``: ``released``, ``aborted`` or ``rejected``; ``film``: ``stored``, ``unchanged``
  (the same content came again), ``replaced`` (the same UID with other content) or ``refused``; ``seg``: ``sent``
  or ``not_sent``;
- ``status``: the DIMSE status answered (``film``, e.g. ``0x0000``, ``0xC000``, ``0xA700``); ``reason``: why a
  film was refused, an association rejected or a SEG not sent;
- ``films_stored``, ``films_refused``: per association.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lungseg_monai.node.json_lines import JsonLinesFile, utc_now

__all__ = ["AUDIT_FIELDS", "AuditTrail"]

#: Every line has these keys, in this order.
AUDIT_FIELDS = (
    "time",
    "event",
    "calling_ae",
    "called_ae",
    "peer_address",
    "sop_instance_uid",
    "seg_sop_instance_uid",
    "bytes",
    "outcome",
    "status",
    "reason",
    "films_stored",
    "films_refused",
)


class AuditTrail:
    """Append the node's audit events to ``path`` (see the module's field list).

    Args:
        path: the file (``<output-dir>/audit.jsonl``).

    """

    def __init__(self, path: str | Path) -> None:
        self._file = JsonLinesFile(path)
        self.path = self._file.path

    def _append(self, event: str, **facts: Any) -> None:
        unknown = set(facts) - set(AUDIT_FIELDS)
        if unknown:
            raise ValueError(f"not an audit field: {sorted(unknown)}")
        self._file.append({key: facts.get(key) for key in AUDIT_FIELDS} | {"time": utc_now(), "event": event})

    def association(
        self, calling_ae: str | None, called_ae: str | None, peer_address: str, outcome: str, **facts: Any
    ) -> None:
        """Record an association that ended (``released``, ``aborted``) or was refused (``rejected``, ``reason``)."""
        self._append("association", calling_ae=calling_ae, called_ae=called_ae, peer_address=peer_address,
                     outcome=outcome, **facts)  # fmt: skip

    def film(self, calling_ae: str, called_ae: str, peer_address: str, sop_instance_uid: str, **facts: Any) -> None:
        """Record the answer to a film offered by C-STORE (``outcome``, ``status``, ``bytes``, ``reason``)."""
        self._append("film", calling_ae=calling_ae, called_ae=called_ae, peer_address=peer_address,
                     sop_instance_uid=sop_instance_uid, **facts)  # fmt: skip

    def seg(self, calling_ae: str, called_ae: str, peer_address: str, sop_instance_uid: str, **facts: Any) -> None:
        """Record a film's SEG sent to ``called_ae`` at ``peer_address`` (``host:port``), or not (``reason``)."""
        self._append("seg", calling_ae=calling_ae, called_ae=called_ae, peer_address=peer_address,
                     sop_instance_uid=sop_instance_uid, **facts)  # fmt: skip

    def read(self) -> list[dict[str, Any]]:
        """Return the lines written so far."""
        return self._file.read()
