"""``lungseg serve``: a DICOM C-STORE SCP that segments the chest films it receives and sends their SEGs on."""

from __future__ import annotations

import hashlib
import logging
import queue
import ssl
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydicom import Dataset
from pydicom.pixels import get_decoder
from pydicom.uid import UID, AllTransferSyntaxes
from pynetdicom import AE, evt
from pynetdicom.sop_class import (
    ComputedRadiographyImageStorage,
    DigitalXRayImageStorageForPresentation,
    DigitalXRayImageStorageForProcessing,
    SecondaryCaptureImageStorage,
    Verification,
)

from lungseg_monai.inference.run_page import write_run_page
from lungseg_monai.inference.statuses import FAILED, SKIPPED
from lungseg_monai.node.association_events import AssociationEvents, peer_of
from lungseg_monai.node.audit_trail import AuditTrail
from lungseg_monai.node.bundle_runner import BundleRunner, FilmResult
from lungseg_monai.node.film_records import FilmRecords
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


def _failure(status: int, reason: str) -> Dataset:
    """Return a C-STORE answer with ``status`` and the reason as its ErrorComment (LO: 64 characters at most)."""
    answer = Dataset()
    answer.Status = status
    answer.ErrorComment = reason if len(reason) <= 64 else reason[:61] + "..."
    return answer


class StorageNode:
    """A DICOM node: receive films (C-STORE), keep them in a spool, segment them in a pool, forward the SEGs.

    Each accepted film is stored atomically in the spool and queued; ``max_workers`` threads take the queued
    films in batches of up to ``batch_size`` and run the bundle's folder-inference pipeline on them
    (:class:`~lungseg_monai.node.bundle_runner.BundleRunner`); with a ``forwarder`` each film's SEG is then sent
    on. At most ``max_queue`` films wait or are being segmented: beyond that a C-STORE is answered 0xA700
    (out of resources) and nothing is stored. A film whose segmentation fails is recorded as in folder runs; the
    node goes on; it keeps a record of the failure, and is not taken up again at start unless ``retry_failed``.
    A film received again with the content it had is answered and left as it is; with other content (the same
    SOP Instance UID) it is segmented again and its new SEG sent: outcome ``replaced``. A SEG the peer did not
    confirm is sent again every ``forward_retry_seconds`` while the node runs. On :meth:`start` the spool is
    searched for films without outputs, and for SEGs without a confirmed forward: a node killed with films in hand
    takes them up again, and sends the SEGs it had not sent.

    Args:
        ae_title: this node's AE title.
        port: TCP port to listen on.
        runner: segments listed films of the spool.
        spool: where received films are kept.
        outcomes: where each film's outcome and each SEG sent is recorded (``outcomes.jsonl``).
        audit: where each association, film offered and SEG sent is recorded (``audit.jsonl``), None for none.
        host: address to listen on (``127.0.0.1`` by default: this machine only; ``0.0.0.0``: all).
        forwarder: sends the SEGs on, None to keep them only in the output folder.
        allow: only these peers (calling AE, and host if given) may open associations.
        allow_any_peer: accept any calling AE instead; without it an empty ``allow`` is refused (closed by default).
        max_queue: films waiting or being segmented, at most.
        max_workers: threads that segment.
        batch_size: films per segmentation run, at most.
        forward_retry_seconds: the pause between attempts to send again the SEGs the peer did not confirm.
        retry_failed: at start, take up again the films that failed or were skipped.
        tls: speak DICOM TLS only, with this server context (:func:`~lungseg_monai.node.tls.server_context`).

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
        audit: AuditTrail | None = None,
        retry_failed: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.address = (host, port)
        self.runner, self.spool, self.outcomes, self.forwarder = runner, spool, outcomes, forwarder
        self.audit, self.retry_failed, self.tls = audit, retry_failed, tls
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
        self._associations = AssociationEvents(ae_title, self.allow, allow_any_peer, audit)
        if tls is not None and hasattr(tls, "on_handshake_failure"):  # a context of node.tls.server_context
            tls.on_handshake_failure = self._associations.tls_refused
        self.forward_retry_seconds = forward_retry_seconds
        self.records = FilmRecords(runner.output_dir)
        # film source -> its SEG and the film's SHA-256, for SEGs the peer did not confirm
        self._unsent: dict[str, tuple[Path, str | None]] = {}
        self._forward_failed: set[str] = set()  # films whose forward_failed line is written (once until sent)

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
        handlers = [*self._associations.handlers(), (evt.EVT_C_STORE, self._on_store)]
        self._server = self._ae.start_server(self.address, block=False, evt_handlers=handlers, ssl_context=self.tls)
        self.address = tuple(self._server.server_address[:2])  # the port the system chose for port 0
        films, segs = self._take_up()
        for film in films:  # a film received meanwhile is queued once
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
        tls = " (DICOM TLS)" if self.tls else ""
        logger.info("%s listening on %s:%d%s (%d film(s) taken up from the spool%s)", self._ae.ae_title, host, port,
                    tls, len(films), f", {segs} SEG(s) to send" if segs else "")  # fmt: skip
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

    # Films received ------------------------------------------------------------------------------------------

    def _on_store(self, event: evt.Event) -> int | Dataset:
        encoded = event.encoded_dataset()
        status, outcome, reason = self._store(event, encoded)
        code = int(status.Status) if isinstance(status, Dataset) else status
        self._associations.film_answered(event, code == STATUS_SUCCESS, len(encoded), outcome, code, reason)
        return status

    def _store(self, event: evt.Event, encoded: bytes) -> tuple[int | Dataset, str, str]:
        """Keep a received film and queue it; return the answer, the audit outcome and the reason of a refusal."""
        peer, instance = peer_of(event.assoc), event.request.AffectedSOPInstanceUID
        with self._lock:
            if self._in_flight >= self.max_queue:
                logger.warning("busy: film %s from %s refused (%d films in hand, --max-queue %d)",
                               instance, peer, self._in_flight, self.max_queue)  # fmt: skip
                return STATUS_BUSY, "refused", f"busy (--max-queue {self.max_queue})"
            self._in_flight += 1
        try:
            dataset = event.dataset
            dataset.file_meta = event.file_meta
            source = self.spool.relative(self.spool.path_of(dataset)).as_posix()
            digest = hashlib.sha256(encoded).hexdigest()
            known = self.records.known(source)
            if known is not None and known.sha256 == digest:
                self._finished()
                self._received_unchanged(source, peer, known.status, known.reason)
                return STATUS_SUCCESS, "unchanged", ""
            film = self.spool.store_encoded(dataset, encoded)
        # A data set that cannot be decoded or kept is answered; the node goes on.
        except Exception as err:  # noqa: BLE001
            self._finished()
            if isinstance(err, OSError):  # the disk, not the film: the sender may try again later
                logger.error("film %s from %s not stored: %s", instance, peer, err)
                return STATUS_BUSY, "refused", f"not stored: {err}"
            reason = str(err) if isinstance(err, InvalidFilmError) else f"{type(err).__name__}: {err}"
            logger.warning("film %s from %s refused: %s", instance, peer, reason)
            return _failure(STATUS_CANNOT_UNDERSTAND, reason), "refused", reason
        name = UID(str(event.request.AffectedSOPClassUID)).name
        if known is not None and known.sha256 is not None:
            logger.warning("received %s (%s) from %s again with other content: it is segmented again and its SEG "
                           "replaced", source, name, peer)  # fmt: skip
            self.outcomes.append("replaced", source, sha256=digest, previous_sha256=known.sha256)
            outcome = "replaced"
        else:
            logger.info("received %s (%s) from %s", source, name, peer)
            outcome = "stored"
        self._enqueue(film, counted=True)
        return STATUS_SUCCESS, outcome, ""

    def _received_unchanged(self, source: str, peer: str, status: str, reason: str) -> None:
        if status in (FAILED, SKIPPED):
            logger.info("received %s from %s again, unchanged: it was %s (%s) and is not taken up again "
                        "(lungseg serve --retry-failed does)", source, peer, status, reason)  # fmt: skip
        else:
            logger.info("received %s from %s again, unchanged: its outputs stand", source, peer)

    # Segmentation pool --------------------------------------------------------------------------------------

    def _take_up(self) -> tuple[list[Path], int]:
        """Find the work a stopped node left: films to segment, and SEGs to send (queued in ``_unsent``).

        A film is segmented again when it has no record, when it was replaced after its record was written, or
        (with ``retry_failed``) when it failed or was skipped. A segmented film whose SEG the peer did not confirm
        only has its SEG sent.
        """
        last_forward = {}  # film -> its last forwarding event: a forward_failed one is not written again
        for line in read_outcomes(self.outcomes.path):
            if line.get("event") in ("forwarded", "forward_failed"):
                last_forward[line["film"]] = line["event"]
        self._forward_failed = {film for film, event in last_forward.items() if event == "forward_failed"}
        films = []
        for film in self.spool.films():
            source = self.spool.relative(film).as_posix()
            known = self.records.known(source)
            if known is None or self.records.changed(film, known):
                films.append(film)
            elif known.status in (FAILED, SKIPPED):
                if self.retry_failed:
                    films.append(film)
            elif (
                self.forwarder is not None
                and known.seg is not None
                and not self.forwarder.is_sent(source, known.sha256)
            ):
                self._unsent[source] = (known.seg, known.sha256)
        return films, len(self._unsent)

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
        source = self.spool.relative(result.film).as_posix()
        self.outcomes.segmented(source, result.status, result.reason)
        if result.status in (FAILED, SKIPPED):
            try:
                self.records.record_unsegmented(source, result.film, result.status, result.reason)
            except OSError as err:  # the outcome log has it; a restart takes the film up again
                logger.warning("record of %s not written: %s", source, err)

    def _forward(self, result: FilmResult) -> None:
        assert self.forwarder is not None and result.seg is not None
        source = self.spool.relative(result.film).as_posix()
        if self.forwarder.is_sent(source, result.source_sha256):
            return
        self._send(source, result.seg, result.source_sha256)

    def _send(self, source: str, seg: Path, source_sha256: str | None) -> bool:
        """Send the SEG of film ``source``; return whether the peer confirmed it (if not, it is tried again).

        The outcome log gets one ``forward_failed`` line per film until its SEG is sent, not one per attempt.
        """
        assert self.forwarder is not None
        target = self.forwarder.target
        destination, film_uid = str(target), Path(source).stem
        audit_seg = (self._ae.ae_title.strip(), target.ae_title, f"{target.host}:{target.port}", film_uid)
        try:
            seg_uid = self.forwarder.send(seg, source, source_sha256)
        except (ForwardError, OSError) as err:
            with self._lock:
                self._unsent[source] = (seg, source_sha256)
                first = source not in self._forward_failed
                self._forward_failed.add(source)
            retry = f"tried again in {self.forward_retry_seconds:g} s and at the next start"
            logger.warning("SEG of %s not sent: %s; %s", source, err, retry)
            if first:
                self.outcomes.append("forward_failed", source, destination=destination, reason=str(err))
            if self.audit is not None:
                self.audit.seg(*audit_seg, outcome="not_sent", reason=str(err))
            return False
        with self._lock:
            self._unsent.pop(source, None)
            self._forward_failed.discard(source)
        logger.info("SEG of %s sent to %s", source, destination)
        self.outcomes.append("forwarded", source, destination=destination, seg=seg.name)
        if self.audit is not None:
            self.audit.seg(*audit_seg, seg_sop_instance_uid=seg_uid, bytes=_size(seg), outcome="sent")
        return True

    def _retry_unsent(self) -> None:
        """Send the SEGs the peer did not confirm: at once, then every ``forward_retry_seconds``.

        A round stops at the first refusal (the peer is still away).
        """
        while True:
            with self._lock:
                unsent = list(self._unsent.items())
            for source, (seg, digest) in unsent:
                if self._stopping.is_set() or not self._send(source, seg, digest):
                    break
            if self._stopping.wait(self.forward_retry_seconds):
                return


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None
