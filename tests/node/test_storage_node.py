"""``StorageNode`` on real films over real associations (pynetdicom SCUs on loopback)."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from dicom_peers import SegCollector, echo, free_port, read_film, scu, send
from mask_agreement import assert_masks_agree
from PIL import Image
from pydicom.uid import generate_uid
from pynetdicom.sop_class import ComputedRadiographyImageStorage, CTImageStorage, Verification
from seg_reading import read_seg
from shared_data import REPO
from waiting import wait_until

from lungseg_monai.data.checksums import file_sha256
from lungseg_monai.inference.bundle_workflow import resolve_bundle
from lungseg_monai.node import (
    AUDIT_FIELDS,
    AllowedPeer,
    BundleRunner,
    FilmSpool,
    RemoteNode,
    StorageNode,
    read_outcomes,
)
from lungseg_monai.node.forwarding import ForwardError, SegForwarder
from lungseg_monai.stop_signals import PAUSE_VARIABLE

pytestmark = pytest.mark.filterwarnings("ignore")


def _outcomes(node: StorageNode, event: str = "segmented") -> dict[str, dict]:
    return {line["film"]: line for line in read_outcomes(node.outcomes.path) if line["event"] == event}


def test_echo_unsupported_sop_class_and_allowed_peers(start_node, dicom_dir):
    node = start_node(allow=[AllowedPeer.parse("TESTSCU@127.0.0.1")])
    contexts = [(ComputedRadiographyImageStorage, "1.2.840.10008.1.2.1"), (CTImageStorage, "1.2.840.10008.1.2.1")]
    assoc = scu("TESTSCU", contexts).associate("127.0.0.1", node.port, ae_title="LUNGSEG")
    assert assoc.is_established
    try:
        assert int(assoc.send_c_echo().Status) == 0x0000
        accepted = {str(c.abstract_syntax) for c in assoc.accepted_contexts}
        rejected = {str(c.abstract_syntax): c.result for c in assoc.rejected_contexts}
    finally:
        assoc.release()
    assert str(ComputedRadiographyImageStorage) in accepted
    assert rejected == {str(CTImageStorage): 0x03}  # abstract syntax not supported
    other = scu("OTHER").associate("127.0.0.1", node.port, ae_title="LUNGSEG")
    assert other.is_rejected and not other.is_established
    refusal = other.acceptor.primitive  # A-ASSOCIATE-RJ: rejected permanent, by the service user, calling AE
    assert (refusal.result, refusal.result_source, refusal.diagnostic) == (0x01, 0x01, 0x03)
    wrong = scu("TESTSCU").associate("127.0.0.1", node.port, ae_title="WHATEVER")  # an allowed peer, another AE
    assert wrong.is_rejected
    refusal = wrong.acceptor.primitive  # called AE title not recognised
    assert (refusal.result, refusal.result_source, refusal.diagnostic) == (0x01, 0x01, 0x07)


def test_a_data_set_without_its_pixels_gets_a_failure_status_naming_the_problem(start_node, dicom_dir, tmp_path):
    node = start_node()
    whole = read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", fresh_uids=True)
    halved = read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", fresh_uids=True)
    expected = 1955 * 1841 * 2  # rows x columns x 2 bytes
    halved.PixelData = halved.PixelData[: expected // 4 * 2]  # a file cut to half its length (an even number)
    no_pixels = read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", fresh_uids=True)
    del no_pixels.PixelData
    pairs = sorted({(str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID)) for ds in (whole, halved)})
    assoc = scu("TESTSCU", pairs).associate("127.0.0.1", node.port, ae_title="LUNGSEG")
    assert assoc.is_established
    try:
        answers = [assoc.send_c_store(ds) for ds in (halved, no_pixels, whole)]
    finally:
        assoc.release()
    assert (int(answers[0].Status), answers[0].ErrorComment) == (
        0xC000, f"Pixel Data has {expected // 4 * 2} bytes, the header says {expected}"
    )  # fmt: skip
    assert (int(answers[1].Status), answers[1].ErrorComment) == (0xC000, "no Pixel Data")
    assert int(answers[2].Status) == 0x0000  # the whole film is stored
    assert len(list((tmp_path / "out" / "received").rglob("*.dcm"))) == 1  # nothing kept of the other two


def test_the_logs_name_what_a_peer_could_not_do(start_node, dicom_dir, tmp_path, caplog):
    node = start_node()
    film = read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", fresh_uids=True)
    contexts = [(ComputedRadiographyImageStorage, str(film.file_meta.TransferSyntaxUID)),
                (CTImageStorage, "1.2.840.10008.1.2.1")]  # fmt: skip
    with caplog.at_level(logging.INFO, logger="lungseg_monai.node"):
        assoc = scu("TESTSCU", contexts).associate("127.0.0.1", node.port, ae_title="LUNGSEG")
        assert assoc.is_established
        try:
            assert [int(assoc.send_c_store(film).Status) for _ in range(2)] == [0x0000, 0x0000]
        finally:
            assoc.release()
        assert node.wait_until_idle(timeout=120)
        only_ct = scu("TESTSCU", [(CTImageStorage, "1.2.840.10008.1.2.1")])
        only_ct.remove_requested_context(Verification)
        assoc = only_ct.associate("127.0.0.1", node.port, ae_title="LUNGSEG")
        if assoc.is_established:  # pynetdicom accepts an association whose contexts are all refused
            assoc.release()
    said = caplog.text
    assert f"film {film.SOPInstanceUID} sent twice in one association by TESTSCU" in said
    assert "2 film(s) stored, 0 refused, 1 SOP class(es) refused at association" in said
    assert "no film it proposed is accepted here (SOP classes refused at association: CT Image Storage)" in said
    # The forwarder says why it could not send: the peer's reason for a rejection, a refused connection.
    seg = dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm"  # any DICOM file: rejected before it is sent
    wrong = SegForwarder(RemoteNode("ELSEWHERE", "127.0.0.1", node.port), "TESTSCU", tmp_path / "marks")
    with caplog.at_level(logging.INFO, logger="lungseg_monai.node"):
        with pytest.raises(ForwardError, match="rejected permanently: called AE title not recognised"):
            wrong.send(seg, "a.dcm")
        logged = "association from TESTSCU@127.0.0.1 rejected: it called 'ELSEWHERE', this node is 'LUNGSEG'"
        wait_until(lambda: logged in caplog.text, 10, "the node's line", interval=0.05)  # logged in its own thread
    closed = SegForwarder(RemoteNode("PACS", "127.0.0.1", free_port()), "LUNGSEG", tmp_path / "marks")
    with pytest.raises(ForwardError, match="connection refused"):
        closed.send(seg, "a.dcm")


def test_a_node_opens_to_nobody_it_is_not_told_of():
    with pytest.raises(ValueError, match="allow_any_peer"):
        StorageNode("LUNGSEG", 0, None, None, None)  # no allow list, no allow_any_peer


def test_broken_film_and_bad_uid_are_answered_and_the_node_goes_on(start_node, dicom_dir, tmp_path):
    node = start_node()
    broken = read_film(dicom_dir / "pylibjpeg-data" / "966_BROKEN_truncated_j2k.dcm", fresh_uids=True)
    good = read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", fresh_uids=True)
    evil = read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", fresh_uids=True, study="../../escaped")
    assert send(node.port, [broken, good, evil]) == [0x0000, 0x0000, 0xC000]
    assert node.wait_until_idle(timeout=120)
    outcomes = _outcomes(node)
    broken_film = f"{broken.StudyInstanceUID}/{broken.SOPInstanceUID}.dcm"
    good_film = f"{good.StudyInstanceUID}/{good.SOPInstanceUID}.dcm"
    assert outcomes[broken_film]["status"] == "failed"
    assert "decod" in outcomes[broken_film]["reason"].lower() or "j2k" in outcomes[broken_film]["reason"].lower()
    assert outcomes[good_film]["status"] == "done"
    record = json.loads((tmp_path / "out" / "segmentations" / f"{good_film}.json").read_text())
    assert (
        record["outputs"]["dicom_seg"].endswith(".seg.dcm")
        and record["right_lung_px"] > 100_000 < record["left_lung_px"]
    )
    assert not any(tmp_path.rglob("escaped*")) and len(list((tmp_path / "out" / "received").rglob("*.dcm"))) == 2
    page = (tmp_path / "out" / "segmentations" / "index.html").read_text()  # the node's run page, after each batch
    assert page.count("<tr data-quality=") == 2 and good_film in page and broken_film in page
    assert "<td data-value='PA'>PA</td>" in page  # the view, from the good film's record
    # The node still takes films after the broken one.
    assert send(node.port, [read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", fresh_uids=True)]) == [0]


def test_a_burst_of_50_parallel_sends(start_node, dicom_dir, tmp_path):
    node = start_node(max_queue=60, max_workers=2)
    study = generate_uid()
    films = [read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", True, study) for _ in range(50)]
    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(lambda ds: send(node.port, [ds])[0], films))
    assert statuses == [0x0000] * 50
    assert node.wait_until_idle(timeout=400)
    outcomes = _outcomes(node)
    assert sorted(outcomes) == sorted(f"{study}/{ds.SOPInstanceUID}.dcm" for ds in films)
    assert {line["status"] for line in outcomes.values()} == {"done"}
    masks = [np.asarray(Image.open(p)) > 0 for p in sorted((tmp_path / "out" / "segmentations").rglob("*.mask.png"))]
    assert len(masks) == 50  # one film, 50 copies, in batches of whatever had arrived
    for mask in masks:
        assert_masks_agree(mask, masks[0], "a copy of RG1_UNCR")


def test_beyond_max_queue_the_node_answers_busy(start_node, dicom_dir, tmp_path):
    node = start_node(max_queue=2, max_workers=1)
    films = [read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", fresh_uids=True) for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda ds: send(node.port, [ds])[0], films))
    assert set(statuses) == {0x0000, 0xA700} and statuses.count(0x0000) >= 2
    assert node.wait_until_idle(timeout=120)
    kept = {p.name for p in (tmp_path / "out" / "received").rglob("*.dcm")}
    assert kept == {f"{ds.SOPInstanceUID}.dcm" for ds, status in zip(films, statuses, strict=True) if status == 0}
    assert len(_outcomes(node)) == statuses.count(0x0000)


def test_a_restarted_node_takes_up_unfinished_films_and_unsent_segs(start_node, dicom_dir, tmp_path):
    pacs = SegCollector()
    try:
        spool = FilmSpool(tmp_path / "out" / "received")
        films = [
            spool.store_dataset(read_film(dicom_dir / name, fresh_uids=True))
            for name in ("pydicom-data_pypi/RG1_UNCR.dcm", "pylibjpeg-data/RG1_JLSN.dcm")
        ]
        runner = BundleRunner(resolve_bundle("unet"), spool.root, tmp_path / "out" / "segmentations")
        assert [r.status for r in runner.run(films[:1])] == ["done"]  # segmented, then the node was killed
        node = start_node(forward_to=RemoteNode("PACS", "127.0.0.1", pacs.port))
        assert node.wait_until_idle(timeout=120)
        # The film segmented before only has its SEG sent: it is not segmented again.
        segmented = {film: line["status"] for film, line in _outcomes(node).items()}
        assert segmented == {spool.relative(films[1]).as_posix(): "done"}
        _wait_for_segs(pacs, 2)
        referenced = {
            str(seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID)
            for seg in pacs.received
        }
        assert referenced == {Path(film).stem for film in films}
        _wait_for_forwarded(node, 2)
        assert len(list((tmp_path / "out" / "forwarded").rglob("*.json"))) == 2
        node.stop()
        lines = read_outcomes(node.outcomes.path)
        again = start_node(forward_to=RemoteNode("PACS", "127.0.0.1", pacs.port))
        assert again.in_flight == 0 and len(pacs.received) == 2  # nothing left to do
        again.stop()
        assert read_outcomes(node.outcomes.path) == lines  # no line repeated by the restart
        seg = read_seg(tmp_path / "out" / "segmentations" / f"{spool.relative(films[1])}.seg.dcm")
        assert [item.SegmentLabel for item in seg.SegmentSequence] == ["Right lung", "Left lung", "Cardiomediastinum"]
    finally:
        pacs.stop()


def test_segs_the_peer_did_not_confirm_are_sent_when_it_is_back(start_node, dicom_dir, tmp_path):
    port = free_port()  # the PACS is away at first
    node = start_node(forward_to=RemoteNode("PACS", "127.0.0.1", port), forward_retry_seconds=0.5)
    film = read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", fresh_uids=True)
    assert send(node.port, [film]) == [0x0000]
    assert node.wait_until_idle(timeout=120)
    time.sleep(2)  # a few more attempts, every 0.5 s
    events = [line["event"] for line in read_outcomes(node.outcomes.path)]
    assert events == ["segmented", "forward_failed"]  # one line until it is sent, not one per attempt
    pacs = SegCollector(port=port)
    try:
        wait_until(lambda: pacs.received, 60, "the SEG sent again")
        assert str(
            pacs.received[0].ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID
        ) == str(film.SOPInstanceUID)
        _wait_for_forwarded(node, 1)
        assert len(list((tmp_path / "out" / "forwarded").rglob("*.json"))) == 1
    finally:
        pacs.stop()


def test_a_node_killed_with_films_in_hand_finishes_them_when_restarted(dicom_dir, tmp_path):
    out, port = tmp_path / "node", free_port()
    command = [str(Path(sys.executable).with_name("lungseg")), "serve", "--port", str(port)]  # 127.0.0.1 by default
    command += ["--output-dir", str(out), "--batch-size", "1", "--allow", "TESTSCU@127.0.0.1"]

    def start(env: dict[str, str] | None = None) -> subprocess.Popen:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: echo(port), 120, "the node's answer to an echo", interval=0.5, process=process)
        return process

    records = lambda: list((out / "segmentations").rglob("*.dcm.json"))  # noqa: E731
    films = [read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", fresh_uids=True) for _ in range(6)]
    # Each worker pauses after its first film (a test hook), so the kill comes with films in hand on any machine.
    node = start({**os.environ, PAUSE_VARIABLE: "iteration", "LUNGSEG_PAUSE_SECONDS": "600"})
    assert send(port, films) == [0x0000] * 6  # answered at once; segmenting takes longer
    wait_until(records, 180, "a film segmented", process=node)
    node.kill()  # kill -9: no clean stop
    node.wait()
    killed_with = len(records())
    assert 1 <= killed_with < 6
    node = start()
    try:
        wait_until(lambda: len(records()) >= 6, 180, "the restarted node to finish the films", interval=0.5)
    finally:
        node.terminate()
        assert node.wait(timeout=60) == 0
    assert sorted(p.name for p in records()) == sorted(f"{ds.SOPInstanceUID}.dcm.json" for ds in films)
    assert not [p for p in out.rglob(".*.tmp")]
    taken_up = re.findall(r"\((\d+) film\(s\) taken up from the spool\)", (out / "lungseg.log").read_text())
    assert taken_up[0] == "0" and int(taken_up[1]) == 6 - killed_with


TWIN = "torchxrayvision/1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"


def _wait_for_segs(pacs: SegCollector, count: int) -> None:
    wait_until(lambda: len(pacs.received) >= count, 60, lambda: f"{count} SEG(s) ({len(pacs.received)} arrived)")


def _wait_for_forwarded(node: StorageNode, count: int) -> None:
    """Wait until the node has logged ``count`` SEGs as forwarded (each after the peer's answer: after its arrival)."""
    forwarded = lambda: sum(line["event"] == "forwarded" for line in read_outcomes(node.outcomes.path))  # noqa: E731
    wait_until(lambda: forwarded() >= count, 60, lambda: f"{count} SEG(s) logged as forwarded ({forwarded()} so far)")


def test_a_film_sent_again_with_other_content_is_segmented_again_and_its_seg_replaced(start_node, dicom_dir, tmp_path):
    pacs = SegCollector()
    try:
        node = start_node(forward_to=RemoteNode("PACS", "127.0.0.1", pacs.port))
        twin, fake = read_film(dicom_dir / TWIN), read_film(dicom_dir / "torchxrayvision" / "Fake_MONOHR1.dcm")
        assert (twin.SOPInstanceUID, twin.PhotometricInterpretation) == (fake.SOPInstanceUID, "MONOCHROME2")
        film = f"{twin.StudyInstanceUID}/{twin.SOPInstanceUID}.dcm"
        spooled, record_file = tmp_path / "out" / "received" / film, tmp_path / "out" / "segmentations" / f"{film}.json"
        assert send(node.port, [twin]) == [0x0000]
        assert node.wait_until_idle(timeout=120)
        _wait_for_segs(pacs, 1)
        first_sha = file_sha256(spooled)
        assert json.loads(record_file.read_text())["source_sha256"] == first_sha
        assert send(node.port, [fake]) == [0x0000]  # the same UIDs, MONOCHROME1: other content
        assert node.wait_until_idle(timeout=120)
        _wait_for_segs(pacs, 2)
        assert send(node.port, [fake]) == [0x0000]  # the same content again: answered, nothing redone
        assert node.wait_until_idle(timeout=120)
        time.sleep(1)
        assert len(pacs.received) == 2
    finally:
        pacs.stop()
    old, new = pacs.received
    assert new.SOPInstanceUID != old.SOPInstanceUID and new.SeriesInstanceUID != old.SeriesInstanceUID
    for seg in (old, new):
        referenced = seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID
        assert str(referenced) == str(twin.SOPInstanceUID)
    new_sha = file_sha256(spooled)
    assert new_sha != first_sha and json.loads(record_file.read_text())["source_sha256"] == new_sha
    lines = [(line["event"], line.get("status")) for line in read_outcomes(node.outcomes.path)]
    assert lines == [("segmented", "done"), ("forwarded", None), ("replaced", None), ("segmented", "done"),
                     ("forwarded", None)]  # fmt: skip
    replaced = [line for line in read_outcomes(node.outcomes.path) if line["event"] == "replaced"][0]
    assert (replaced["film"], replaced["previous_sha256"], replaced["sha256"]) == (film, first_sha, new_sha)
    mark = json.loads((tmp_path / "out" / "forwarded" / f"{film}.json").read_text())
    assert (mark["sop_instance_uid"], mark["source_sha256"]) == (str(new.SOPInstanceUID), new_sha)
    films = [line for line in node.audit.read() if line["event"] == "film"]
    assert [line["outcome"] for line in films] == ["stored", "replaced", "unchanged"]
    segs = [line for line in node.audit.read() if line["event"] == "seg"]
    assert [line["seg_sop_instance_uid"] for line in segs] == [str(old.SOPInstanceUID), str(new.SOPInstanceUID)]


def test_failed_and_skipped_films_keep_their_records_and_are_not_taken_up_again(start_node, dicom_dir, tmp_path):
    node = start_node()
    broken = read_film(dicom_dir / "pylibjpeg-data" / "966_BROKEN_truncated_j2k.dcm", fresh_uids=True)
    hip = read_film(dicom_dir / "non_chest" / "RG3_J2KI.dcm", fresh_uids=True)
    assert send(node.port, [broken, hip]) == [0x0000, 0x0000]
    assert node.wait_until_idle(timeout=120)
    films = {ds.SOPInstanceUID: f"{ds.StudyInstanceUID}/{ds.SOPInstanceUID}.dcm" for ds in (broken, hip)}
    records = {uid: json.loads((tmp_path / "out" / "segmentations" / f"{film}.json").read_text())
               for uid, film in films.items()}  # fmt: skip
    assert records[broken.SOPInstanceUID]["status"] == "failed" and records[hip.SOPInstanceUID]["status"] == "skipped"
    for uid, record in records.items():
        assert record["reason"] and record["reason"] == _outcomes(node)[films[uid]]["reason"]
        assert record["source_sha256"] == file_sha256(tmp_path / "out" / "received" / films[uid])
    lines = read_outcomes(node.outcomes.path)
    assert len(lines) == 2
    node.stop()
    for _ in range(2):  # restarts take nothing up and write nothing
        again = start_node()
        assert again.in_flight == 0
        again.stop()
    assert read_outcomes(node.outcomes.path) == lines
    retried = start_node(retry_failed=True)
    assert retried.wait_until_idle(timeout=120)
    again_lines = read_outcomes(node.outcomes.path)[2:]  # taken up once more, with the same outcomes
    assert sorted((line["film"], line["status"]) for line in again_lines) == sorted(
        (line["film"], line["status"]) for line in lines
    )


def test_a_studys_lateral_film_is_skipped_and_gets_no_seg(start_node, dicom_dir, tmp_path):
    node = start_node()
    study = generate_uid()
    frontal = read_film(dicom_dir / "fo-dicom" / "CR-MONO1-10-chest", fresh_uids=True, study=study)  # a PA film
    lateral = read_film(dicom_dir / "fo-dicom" / "CR-MONO1-10-chest", fresh_uids=True, study=study)
    lateral.ViewPosition = "LL"  # the study's lateral film, as an archive sends it with the frontal one
    assert send(node.port, [frontal, lateral]) == [0x0000, 0x0000]
    assert node.wait_until_idle(timeout=120)
    outcomes = _outcomes(node)
    frontal_film, lateral_film = (f"{study}/{ds.SOPInstanceUID}.dcm" for ds in (frontal, lateral))
    assert outcomes[frontal_film]["status"] == "done"
    assert outcomes[lateral_film]["status"] == "skipped"
    assert "ViewPosition is LL (a lateral view)" in outcomes[lateral_film]["reason"]
    segmentations = tmp_path / "out" / "segmentations"
    assert (segmentations / f"{frontal_film}.seg.dcm").is_file()
    assert not (segmentations / f"{lateral_film}.seg.dcm").exists()
    assert json.loads((segmentations / f"{lateral_film}.json").read_text())["status"] == "skipped"


def test_the_audit_trail_has_a_line_per_association_and_per_film(start_node, dicom_dir, tmp_path):
    node = start_node(allow=[AllowedPeer.parse("TESTSCU@127.0.0.1")])
    films = [read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", fresh_uids=True) for _ in range(2)]
    no_pixels = read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", fresh_uids=True)
    del no_pixels.PixelData
    assert send(node.port, [*films, no_pixels]) == [0x0000, 0x0000, 0xC000]
    assert not scu("STRANGER").associate("127.0.0.1", node.port, ae_title="LUNGSEG").is_established
    assert node.wait_until_idle(timeout=120)
    lines = node.audit.read()
    assert all(tuple(line) == AUDIT_FIELDS for line in lines)
    film_lines = [line for line in lines if line["event"] == "film"]
    assert [(line["sop_instance_uid"], line["outcome"], line["status"]) for line in film_lines] == [
        (films[0].SOPInstanceUID, "stored", "0x0000"),
        (films[1].SOPInstanceUID, "stored", "0x0000"),
        (no_pixels.SOPInstanceUID, "refused", "0xC000"),
    ]
    assert film_lines[2]["reason"] == "no Pixel Data"
    stored = [tmp_path / "out" / "received" / f"{ds.StudyInstanceUID}/{ds.SOPInstanceUID}.dcm" for ds in films]
    assert [line["bytes"] for line in film_lines[:2]] == [path.stat().st_size for path in stored]  # as kept
    for line in film_lines:
        assert (line["calling_ae"], line["called_ae"]) == ("TESTSCU", "LUNGSEG")
        assert line["peer_address"].startswith("127.0.0.1:")
    associations = [line for line in lines if line["event"] == "association"]
    assert [(line["calling_ae"], line["outcome"]) for line in associations] == [
        ("TESTSCU", "released"), ("STRANGER", "rejected")
    ]  # fmt: skip
    assert (associations[0]["films_stored"], associations[0]["films_refused"]) == (2, 1)
    assert associations[0]["bytes"] == sum(line["bytes"] for line in film_lines[:2])
    assert associations[1]["reason"] == "calling AE title not recognised (not in --allow)"
    text = node.audit.path.read_text()
    assert str(films[0].PatientID) not in text and str(films[0].PatientName) not in text  # UIDs only
    documented = (REPO / "README.md").read_text().split("**Audit trail**", 1)[1].split("\n- **", 1)[0]
    assert all(f"`{field}`" in documented for field in AUDIT_FIELDS)
