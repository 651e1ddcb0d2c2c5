"""The association side of a node: who may associate, what each association brought, its log and audit lines."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydicom.uid import UID
from pynetdicom import evt
from pynetdicom.association import Association
from pynetdicom.sop_class import Verification

from lungseg_monai.node.audit_trail import AuditTrail
from lungseg_monai.node.peers import AllowedPeer

__all__ = ["AssociationEvents", "peer_of"]

logger = logging.getLogger(__name__)


def calling_ae(assoc: Association) -> str:
    """Return the calling AE title of an association's requestor."""
    requestor = assoc.requestor
    return str(requestor.ae_title or getattr(requestor.primitive, "calling_ae_title", "?")).strip()


def called_ae(assoc: Association) -> str:
    """Return the AE title the requestor called."""
    return str(getattr(assoc.requestor.primitive, "called_ae_title", "") or "").strip()


def address(assoc: Association) -> str:
    """Return the requestor's ``host:port``."""
    return f"{assoc.requestor.address}:{assoc.requestor.port}"


def peer_of(assoc: Association) -> str:
    """Return ``AE@host:port`` of the requestor, as the node's log names peers."""
    return f"{calling_ae(assoc)}@{address(assoc)}"


@dataclass
class _Tally:
    """What one association brought: films stored and refused, their bytes, SOP classes refused, UIDs seen."""

    stored: int = 0
    refused: int = 0
    bytes: int = 0
    refused_kinds: int = 0
    instances: set[str] = field(default_factory=set)


class AssociationEvents:
    """pynetdicom event handlers for a node's associations (not its C-STOREs, which the node answers itself).

    A peer not in ``allow`` is rejected (calling AE title not recognised) unless ``allow_any_peer``; pynetdicom's
    own rejections (another called AE title, too many associations) are logged and audited here. Each
    association's films are tallied (:meth:`film_answered`) and said when it ends.

    Args:
        ae_title: the node's AE title.
        allow: the peers that may associate.
        allow_any_peer: accept any calling AE instead.
        audit: where each association and film offered is recorded, None for nowhere.

    """

    def __init__(
        self, ae_title: str, allow: Sequence[AllowedPeer], allow_any_peer: bool, audit: AuditTrail | None
    ) -> None:
        self.ae_title, self.allow, self.allow_any_peer, self.audit = (
            ae_title.strip(),
            list(allow),
            allow_any_peer,
            audit,
        )
        self._tallies: dict[int, _Tally] = {}

    def handlers(self) -> list[tuple[evt.EventType, Callable[[evt.Event], Any]]]:
        """Return the ``(event, handler)`` pairs for ``AE.start_server``."""
        return [
            (evt.EVT_REQUESTED, self._on_requested),
            (evt.EVT_REJECTED, self._on_rejected),
            (evt.EVT_ESTABLISHED, self._on_established),
            (evt.EVT_RELEASED, self._on_ended),
            (evt.EVT_ABORTED, self._on_ended),
            (evt.EVT_C_ECHO, self._on_echo),
        ]

    def film_answered(self, event: evt.Event, stored: bool, size: int, outcome: str, status: int, reason: str) -> None:
        """Tally a C-STORE the node answered (``status``), warn of a film sent twice, and audit it."""
        tally = self._tallies.get(id(event.assoc))
        instance = str(event.request.AffectedSOPInstanceUID)
        if tally is not None:
            if stored:
                tally.stored += 1
                tally.bytes += size
            else:
                tally.refused += 1
            if instance in tally.instances:
                logger.warning("film %s sent twice in one association by %s: the later copy is the one kept",
                               instance, peer_of(event.assoc))  # fmt: skip
            tally.instances.add(instance)
        if self.audit is not None:
            self.audit.film(calling_ae(event.assoc), called_ae(event.assoc), address(event.assoc), instance,
                            bytes=size, outcome=outcome, status=f"0x{status:04X}", reason=reason or None)  # fmt: skip

    def tls_refused(self, peer_address: str, reason: str) -> None:
        """Log and audit a connection whose TLS handshake failed (no association: its AE titles are unknown)."""
        logger.warning("connection from %s refused: TLS handshake failed (%s)", peer_address, reason)
        if self.audit is not None:
            self.audit.association(None, None, peer_address, "rejected", reason=f"TLS handshake failed ({reason})")

    def _audit(self, assoc: Association, outcome: str, **facts: Any) -> None:
        if self.audit is not None:
            self.audit.association(calling_ae(assoc), called_ae(assoc), address(assoc), outcome, **facts)

    def _on_requested(self, event: evt.Event) -> None:
        if self.allow_any_peer:
            return
        title, host = str(event.assoc.requestor.primitive.calling_ae_title).strip(), event.assoc.requestor.address
        if not any(allowed.admits(title, host) for allowed in self.allow):
            logger.warning("association from %s@%s refused: not in --allow", title, host)
            self._audit(event.assoc, "rejected", reason="calling AE title not recognised (not in --allow)")
            event.assoc.acse.send_reject(0x01, 0x01, 0x03)  # rejected permanent, calling AE title not recognised
            event.assoc.kill()  # as pynetdicom's own rejections do: the DUL sends the A-ASSOCIATE-RJ, then stops

    def _on_rejected(self, event: evt.Event) -> None:
        """Log an association pynetdicom rejected (our own --allow refusals are logged where they are made)."""
        requested = called_ae(event.assoc)
        if requested != self.ae_title:
            logger.warning("association from %s@%s rejected: it called %r, this node is %r", calling_ae(event.assoc),
                           event.assoc.requestor.address, requested, self.ae_title)  # fmt: skip
            reason = "called AE title not recognised"
        else:
            reason = "local limit exceeded (associations open at once)"
        self._audit(event.assoc, "rejected", reason=reason)

    def _on_established(self, event: evt.Event) -> None:
        refused = sorted({UID(str(c.abstract_syntax)).name for c in event.assoc.rejected_contexts})
        storage = [c for c in event.assoc.accepted_contexts if str(c.abstract_syntax) != str(Verification)]
        self._tallies[id(event.assoc)] = _Tally(refused_kinds=len(refused))
        logger.info("association from %s established", peer_of(event.assoc))
        if refused and not storage:  # it can send no film here: say so now, not "0 refused" at the end
            named = ", ".join(refused[:5]) + (f" and {len(refused) - 5} more" if len(refused) > 5 else "")
            logger.warning("association from %s: no film it proposed is accepted here (SOP classes refused at "
                           "association: %s)", peer_of(event.assoc), named)  # fmt: skip

    def _on_ended(self, event: evt.Event) -> None:
        tally = self._tallies.pop(id(event.assoc), _Tally())
        how = "released" if event.event is evt.EVT_RELEASED else "aborted"
        kinds = f", {tally.refused_kinds} SOP class(es) refused at association" if tally.refused_kinds else ""
        logger.info("association from %s %s: %d film(s) stored, %d refused%s", peer_of(event.assoc), how,
                    tally.stored, tally.refused, kinds)  # fmt: skip
        self._audit(event.assoc, how, films_stored=tally.stored, films_refused=tally.refused, bytes=tally.bytes)

    def _on_echo(self, event: evt.Event) -> int:
        logger.info("C-ECHO from %s", peer_of(event.assoc))
        return 0x0000
