"""``lungseg serve``: a DICOM C-STORE SCP that segments the chest films it receives and sends their SEGs on."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom import Dataset
from pydicom.pixels import get_decoder
from pydicom.uid import UID, AllTransferSyntaxes
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.sop_class import (
    ComputedRadiographyImageStorage,
    DigitalXRayImageStorageForPresentation,
    DigitalXRayImageStorageForProcessing,
    SecondaryCaptureImageStorage,
    Verification,
)

from lungseg_monai.inference.provenance import record_path
from lungseg_monai.inference.run_page import write_run_page
from lungseg_monai.node.bundle_runner import BundleRunner, FilmResult
from lungseg_monai.node.film_spool import FilmSpool, InvalidFilmError
from lungseg_monai.node.forwarding import ForwardError, SegForwarder
from lungseg_monai.node.outcome_log import OutcomeLog, read_outcomes
from lungseg_monai.node.peers import AllowedPeer

__all__ = ["CHEST_STORAGE_CLASSES", "StorageNode", "decodable_transfer_syntaxes"]

logger = logging.getLogger(__name__)

#: The storage SOP classes of chest radiographs; any other is refused at association (abstract syntax not supported).
CHEST_STORAGE_CLASSES = (
    ComputedRadiographyImageStorage,
    DigitalXRayImageStorageForPresentation,
    DigitalXRayImageStorageForProcessing,
    SecondaryCaptureImageStorage,
)

#: C-STORE statuses (PS3.4 Annex B.2.3): refused, out of resources (the node is busy); cannot understand.
STATUS_SUCCESS, STATUS_BUSY, STATUS_CANNOT_UNDERSTAND = 0x0000, 0xA700, 0xC000


def decodable_transfer_syntaxes() -> list[str]:
    """Return the transfer syntaxes whose pixel data the reader decodes here (pydicom and its plugins)."""
    decodable = []
    for uid in AllTransferSyntaxes:
        try:
            if get_decoder(uid).is_available:
                decodable.append(uid)
        except NotImplementedError:
            continue
    return decodable


@dataclass
class _Tally:
    """What one association brought: films stored and refused, SOP classes refused at association, UIDs seen."""

    stored: int = 0
    refused: int = 0
    refused_kinds: int = 0
    instances: set[str] = field(default_factory=set)


def _failure(status: int, reason: str) -> Dataset:
    """Return a C-STORE answer with ``status`` and the reason as its ErrorComment (LO: 64 characters at most)."""
    answer = Dataset()
    answer.Status = status
    answer.ErrorComment = reason if len(reason) <= 64 else reason[:61] + "..."
    return answer


def _peer(assoc: Association) -> str:
    requestor = assoc.requestor
    title = requestor.ae_title or getattr(requestor.primitive, "calling_ae_title", "?")
    return f"{str(title).strip()}@{requestor.address}:{requestor.port}"


class StorageNode:
    """A DICOM node: receive films (C-STORE), keep them in a spool, segment them in a pool, forward the SEGs.

    Each accepted film is stored atomically in the spool and queued; ``max_workers`` threads take the queued
    films in batches of up to ``batch_size`` and run the bundle's folder-inference pipeline on them
    (:class:`~lungseg_monai.node.bundle_runner.BundleRunner`); with a ``forwarder`` each film's SEG is then sent
    on. At most ``max_queue`` films wait or are being segmented: beyond that a C-STORE is answered 0xA700
    (out of resources) and nothing is stored. A film whose segmentation fails is recorded as in folder runs; the
    node goes on. A SEG the peer did not confirm is sent again every ``forward_retry_seconds`` while the node
    runs. On :meth:`start` the spool is searched for films without outputs (or without a confirmed forward): a
    node killed with films in hand takes them up again.

    Args:
        ae_title: this node's AE title.
        port: TCP port to listen on.
        runner: segments listed films of the spool.
        spool: where received films are kept.
        outcomes: where each film's outcome and each SEG sent is recorded (``outcomes.jsonl``).
        host: address to listen on (``127.0.0.1`` by default: this machine only; ``0.0.0.0``: all).
        forwarder: sends the SEGs on, None to keep them only in the output folder.
        allow: only these peers (calling AE, and host if given) may open associations.
        allow_any_peer: accept any calling AE instead; without it an empty ``allow`` is refused (closed by default).
        max_queue: films waiting or being segmented, at most.
        max_workers: threads that segment.
        batch_size: films per segmentation run, at most.
        forward_retry_seconds: the pause between attempts to send again the SEGs the peer did not confirm.

    """

    def __init__(
        self,
        ae_title: str,
        port: int,
        runner: BundleRunner,
        spool: FilmSpool,
        outcomes: OutcomeLog,
        host: str = "127.0.0.1",
        forwarder: SegForwarder | None = None,
        allow: Sequence[AllowedPeer] = (),
        allow_any_peer: bool = False,
        max_queue: int = 100,
        max_workers: int = 1,
        batch_size: int = 4,
        forward_retry_seconds: float = 60.0,
    ) -> None:
        self.address = (host, port)
        self.runner, self.spool, self.outcomes, self.forwarder = runner, spool, outcomes, forwarder
        if not allow and not allow_any_peer:
            raise ValueError("a node accepts only the peers it is given: name them (allow) or pass allow_any_peer")
        self.allow, self.allow_any_peer = list(allow), allow_any_peer
        self.max_queue, self.max_workers, self.batch_size = max_queue, max_workers, batch_size
        self._ae = AE(ae_title=ae_title)
        # A request for another called AE title is rejected by pynetdicom (reason 7: called AE title not recognised).
        self._ae.require_called_aet = True
        self._ae.add_supported_context(Verification)
        syntaxes = decodable_transfer_syntaxes()
        for sop_class in CHEST_STORAGE_CLASSES:
            self._ae.add_supported_context(sop_class, syntaxes)
        # Each association holds at most the film being received in memory; the queue bound is on disk.
        self._ae.maximum_associations = max(10, max_queue)
        self._queue: queue.Queue[Path] = queue.Queue()
        self._queued: set[Path] = set()
        self._in_flight = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._page_lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self._server: Any = None
        self._stored_by_assoc: dict[int, _Tally] = {}
        self.forward_retry_seconds = forward_retry_seconds
        self._unsent: dict[str, Path] = {}  # film source -> its SEG, for SEGs the peer did not confirm

    @property
    def in_flight(self) -> int:
        """Films received (or taken up at start) and not yet finished."""
        with self._lock:
            return self._in_flight

    def start(self) -> None:
        """Listen, take up the films a killed node left and start the workers (returns at once).

        Raises:
            OSError: the address cannot be listened on (nothing else was started).

        """
        self.spool.remove_leftovers()
        handlers = [
            (evt.EVT_REQUESTED, self._on_requested),
            (evt.EVT_REJECTED, self._on_rejected),
            (evt.EVT_ESTABLISHED, self._on_established),
            (evt.EVT_RELEASED, self._on_ended),
            (evt.EVT_ABORTED, self._on_ended),
            (evt.EVT_C_STORE, self._on_store),
            (evt.EVT_C_ECHO, self._on_echo),
        ]
        self._server = self._ae.start_server(self.address, block=False, evt_handlers=handlers)
        self.address = tuple(self._server.server_address[:2])  # the port the system chose for port 0
        for film in self._unfinished_films():  # a film received meanwhile is queued once
            self._enqueue(film, counted=False)
        for number in range(self.max_workers):
            worker = threading.Thread(target=self._work, name=f"lungseg-segment-{number}", daemon=True)
            worker.start()
            self._workers.append(worker)
        if self.forwarder is not None:
            retry = threading.Thread(target=self._retry_unsent, name="lungseg-forward-retry", daemon=True)
            retry.start()
            self._workers.append(retry)
        host, port = self.address
        logger.info(
            "%s listening on %s:%d (%d film(s) taken up from the spool)", self._ae.ae_title, host, port, self.in_flight
        )
        if self.allow_any_peer:
            logger.warning("any calling AE that reaches %s:%d may store films here (--allow-any-peer)", host, port)

    @property
    def port(self) -> int:
        """The port listened on (the one the system chose when started with port 0)."""
        return self.address[1]

    def stop(self) -> None:
        """Stop listening and end open associations; the workers finish the batch in hand, queued films stay queued.

        A film whose C-STORE was not answered yet is not confirmed to its sender (the association is aborted), so
        the sender sends it again; films already answered are in the spool and taken up at the next start.
        """
        if self._server is None:
            return
        self._server.shutdown()
        self._server = None
        for assoc in self._ae.active_associations:
            assoc.abort()
        self._stopping.set()
        for worker in self._workers:
            worker.join()
        left = self._queue.qsize()
        logger.info("stopped; %d received film(s) not yet segmented are taken up at the next start", left)

    def wait_until_idle(self, timeout: float | None = None) -> bool:
        """Wait until no film is waiting or being segmented; return whether that happened within ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.in_flight:
            if self._stopping.is_set() or (deadline is not None and time.monotonic() > deadline):
                return False
            self._stopping.wait(0.1)
        return True

    # Association events -------------------------------------------------------------------------------------

    def _on_requested(self, event: evt.Event) -> None:
        if self.allow_any_peer:
            return
        primitive = event.assoc.requestor.primitive
        title, host = str(primitive.calling_ae_title).strip(), event.assoc.requestor.address
        if not any(peer.admits(title, host) for peer in self.allow):
            logger.warning("association from %s@%s refused: not in --allow", title, host)
            event.assoc.acse.send_reject(0x01, 0x01, 0x03)  # rejected permanent, calling AE title not recognised
            event.assoc.kill()  # as pynetdicom's own rejections do: the DUL sends the A-ASSOCIATE-RJ, then stops

    def _on_rejected(self, event: evt.Event) -> None:
        """Log an association pynetdicom rejected (our own --allow refusals are logged where they are made)."""
        requested = str(event.assoc.requestor.primitive.called_ae_title).strip()
        if requested != self._ae.ae_title.strip():
            logger.warning("association from %s@%s rejected: it called %r, this node is %r",
                           str(event.assoc.requestor.primitive.calling_ae_title).strip(),
                           event.assoc.requestor.address, requested, self._ae.ae_title.strip())  # fmt: skip

    def _on_established(self, event: evt.Event) -> None:
        refused = sorted({UID(str(c.abstract_syntax)).name for c in event.assoc.rejected_contexts})
        storage = [c for c in event.assoc.accepted_contexts if str(c.abstract_syntax) != str(Verification)]
        self._stored_by_assoc[id(event.assoc)] = _Tally(refused_kinds=len(refused))
        logger.info("association from %s established", _peer(event.assoc))
        if refused and not storage:  # it can send no film here: say so now, not "0 refused" at the end
            named = ", ".join(refused[:5]) + (f" and {len(refused) - 5} more" if len(refused) > 5 else "")
            logger.warning("association from %s: no film it proposed is accepted here (SOP classes refused at "
                           "association: %s)", _peer(event.assoc), named)  # fmt: skip

    def _on_ended(self, event: evt.Event) -> None:
        tally = self._stored_by_assoc.pop(id(event.assoc), _Tally())
        how = "released" if event.event is evt.EVT_RELEASED else "aborted"
        kinds = f", {tally.refused_kinds} SOP class(es) refused at association" if tally.refused_kinds else ""
        logger.info("association from %s %s: %d film(s) stored, %d refused%s", _peer(event.assoc), how,
                    tally.stored, tally.refused, kinds)  # fmt: skip

    def _on_echo(self, event: evt.Event) -> int:
        logger.info("C-ECHO from %s", _peer(event.assoc))
        return STATUS_SUCCESS

    def _count(self, event: evt.Event, stored: bool) -> None:
        tally = self._stored_by_assoc.get(id(event.assoc))
        if tally is None:
            return
        if stored:
            tally.stored += 1
        else:
            tally.refused += 1
        instance = str(event.request.AffectedSOPInstanceUID)
        if instance in tally.instances:
            logger.warning("film %s sent twice in one association by %s: the later copy is the one kept",
                           instance, _peer(event.assoc))  # fmt: skip
        tally.instances.add(instance)

    def _on_store(self, event: evt.Event) -> int | Dataset:
        status = self._store(event)
        self._count(event, status == STATUS_SUCCESS)
        return status

    def _store(self, event: evt.Event) -> int | Dataset:
        peer, instance = _peer(event.assoc), event.request.AffectedSOPInstanceUID
        with self._lock:
            if self._in_flight >= self.max_queue:
                logger.warning(
                    "busy: film %s from %s refused (%d films in hand, --max-queue %d)",
                    instance,
                    peer,
                    self._in_flight,
                    self.max_queue,
                )
                return STATUS_BUSY
            self._in_flight += 1
        try:
            dataset = event.dataset
            dataset.file_meta = event.file_meta
            film = self.spool.store_encoded(dataset, event.encoded_dataset())
        # A data set that cannot be decoded or kept is answered; the node goes on.
        except Exception as err:  # noqa: BLE001
            self._finished()
            if isinstance(err, OSError):  # the disk, not the film: the sender may try again later
                logger.error("film %s from %s not stored: %s", instance, peer, err)
                return STATUS_BUSY
            reason = str(err) if isinstance(err, InvalidFilmError) else f"{type(err).__name__}: {err}"
            logger.warning("film %s from %s refused: %s", instance, peer, reason)
            return _failure(STATUS_CANNOT_UNDERSTAND, reason)
        name = UID(str(event.request.AffectedSOPClassUID)).name
        logger.info("received %s (%s) from %s", self.spool.relative(film), name, peer)
        self._enqueue(film, counted=True)
        return STATUS_SUCCESS

    # Segmentation pool --------------------------------------------------------------------------------------

    def _unfinished_films(self) -> list[Path]:
        """Films of the spool without a record, or (when forwarding) without a confirmed forward."""
        unfinished = []
        for film in self.spool.films():
            source = self.spool.relative(film).as_posix()
            if not record_path(self.runner.output_dir / source).is_file():
                unfinished.append(film)
            elif self.forwarder is not None and not self.forwarder.is_sent(source):
                unfinished.append(film)
        return unfinished

    def _enqueue(self, film: Path, counted: bool) -> None:
        with self._lock:
            if film in self._queued:  # received again before it was taken: the newer copy is the one segmented
                if counted:
                    self._in_flight -= 1
                return
            if not counted:
                self._in_flight += 1
            self._queued.add(film)
        self._queue.put(film)

    def _finished(self, count: int = 1) -> None:
        with self._lock:
            self._in_flight -= count

    def _take_batch(self) -> list[Path]:
        try:
            batch = [self._queue.get(timeout=0.2)]
        except queue.Empty:
            return []
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        with self._lock:
            self._queued.difference_update(batch)
        return batch

    def _work(self) -> None:
        while not self._stopping.is_set():
            batch = self._take_batch()
            if not batch:
                continue
            try:
                self._segment(batch)
            finally:
                self._finished(len(batch))

    def _segment(self, films: list[Path]) -> None:
        try:
            results = self.runner.run(films)
        # Not one film's problem (a film's own failure is its result): the films stay in the spool.
        except Exception as err:  # noqa: BLE001
            logger.error(
                "segmentation of %d film(s) stopped: %s: %s; they are taken up at the next start",
                len(films),
                type(err).__name__,
                err,
            )
            logger.debug("traceback", exc_info=err)
            return
        for result in results:
            self._report(result)
            if self.forwarder is not None and result.seg is not None:
                self._forward(result)
        self._write_page()

    def _write_page(self) -> None:
        """Rewrite ``segmentations/index.html`` with every film the node has segmented (its outcome log)."""
        latest = {e["film"]: e for e in read_outcomes(self.outcomes.path) if e.get("event") == "segmented"}
        outcomes = [{"file": film, "status": e.get("status"), "reason": e.get("reason")} for film, e in latest.items()]
        with self._page_lock:
            try:
                write_run_page(self.runner.output_dir, sorted(outcomes, key=lambda o: o["file"]), {})
            except OSError as err:  # the page is a view; the films' outputs and log are what counts
                logger.warning("run page not written: %s", err)

    def _report(self, result: FilmResult) -> None:
        self.outcomes.segmented(self.spool.relative(result.film).as_posix(), result.status, result.reason)

    def _forward(self, result: FilmResult) -> None:
        assert self.forwarder is not None and result.seg is not None
        source = self.spool.relative(result.film).as_posix()
        if self.forwarder.is_sent(source):
            return
        self._send(source, result.seg)

    def _send(self, source: str, seg: Path) -> bool:
        """Send the SEG of film ``source``; return whether the peer confirmed it (if not, it is tried again)."""
        assert self.forwarder is not None
        destination = str(self.forwarder.target)
        try:
            self.forwarder.send(seg, source)
        except (ForwardError, OSError) as err:
            with self._lock:
                self._unsent[source] = seg
            retry = f"tried again in {self.forward_retry_seconds:g} s and at the next start"
            logger.warning("SEG of %s not sent: %s; %s", source, err, retry)
            self.outcomes.append("forward_failed", source, destination=destination, reason=str(err))
            return False
        with self._lock:
            self._unsent.pop(source, None)
        logger.info("SEG of %s sent to %s", source, destination)
        self.outcomes.append("forwarded", source, destination=destination, seg=seg.name)
        return True

    def _retry_unsent(self) -> None:
        """Send again, every ``forward_retry_seconds``, the SEGs the peer did not confirm; stop at the first refusal."""
        while not self._stopping.wait(self.forward_retry_seconds):
            with self._lock:
                unsent = list(self._unsent.items())
            for source, seg in unsent:
                if self._stopping.is_set() or not self._send(source, seg):
                    break  # the peer is still away: wait for the next round
