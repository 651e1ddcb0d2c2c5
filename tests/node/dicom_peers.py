"""Test helpers: real films with fresh UIDs, a C-STORE SCU, a storage SCP that collects what it receives."""

from __future__ import annotations

import ssl
import threading
from pathlib import Path

import pydicom
from free_ports import free_port
from pydicom.uid import ImplicitVRLittleEndian, generate_uid
from pynetdicom import AE, evt
from pynetdicom.sop_class import SegmentationStorage, Verification


def read_film(path: Path, fresh_uids: bool = False, study: str | None = None) -> pydicom.Dataset:
    """A shared DICOM file as a data set with file meta (added when the file has none), UIDs renewed if asked."""
    ds = pydicom.dcmread(path, force=True)
    if "TransferSyntaxUID" not in getattr(ds, "file_meta", {}):
        ds.file_meta = pydicom.dataset.FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    if fresh_uids:
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    if study is not None:
        ds.StudyInstanceUID = study
    return ds


def scu(calling: str = "TESTSCU", sop_classes_and_syntaxes=()) -> AE:
    ae = AE(ae_title=calling)
    # Generous: on a loaded 2-core machine a node busy segmenting may take more than pynetdicom's 30 s to answer.
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 300
    ae.add_requested_context(Verification)
    for sop_class, syntax in sop_classes_and_syntaxes:
        ae.add_requested_context(sop_class, [syntax])  # one syntax per context: each is accepted on its own
    return ae


def echo(port: int, calling: str = "TESTSCU") -> bool:
    """Whether a node answers C-ECHO on ``port`` (the association is released either way)."""
    assoc = scu(calling).associate("127.0.0.1", port, ae_title="LUNGSEG")
    if not assoc.is_established:
        return False
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    return bool(status) and int(status.Status) == 0x0000


def send(port: int, datasets: list[pydicom.Dataset], calling: str = "TESTSCU") -> list[int | None]:
    """C-STORE ``datasets`` in one association; return each status (None: no answer)."""
    pairs = sorted({(str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID)) for ds in datasets})
    assoc = scu(calling, pairs).associate("127.0.0.1", port, ae_title="LUNGSEG")
    assert assoc.is_established
    try:
        statuses = [assoc.send_c_store(ds) for ds in datasets]
    finally:
        assoc.release()
    return [int(status.Status) if status and "Status" in status else None for status in statuses]


class SegCollector:
    """A storage SCP for SEGs on a free port, like a PACS receiving what the node sends."""

    def __init__(self, ae_title: str = "PACS", port: int | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.received: list[pydicom.Dataset] = []
        self._lock = threading.Lock()
        ae = AE(ae_title=ae_title)
        ae.add_supported_context(SegmentationStorage)
        ae.add_supported_context(Verification)
        self.port = port or free_port()
        handlers = [(evt.EVT_C_STORE, self._on)]
        self.server = ae.start_server(("127.0.0.1", self.port), block=False, evt_handlers=handlers, ssl_context=tls)

    def _on(self, event: evt.Event) -> int:
        ds = event.dataset
        ds.file_meta = event.file_meta
        with self._lock:
            self.received.append(ds)
        return 0x0000

    def stop(self) -> None:
        self.server.shutdown()
