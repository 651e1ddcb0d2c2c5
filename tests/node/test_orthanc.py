"""``lungseg serve`` and ``lungseg segment-study`` against a real PACS: Debian's Orthanc on loopback ports."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import urllib.error
from io import BytesIO
from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicom_peers import echo, free_port, read_film, scu
from mask_agreement import assert_masks_agree
from orthanc_server import MISSING, Orthanc
from PIL import Image
from seg_reading import read_seg
from throwaway_pki import make_pki
from tls_proxy import TlsProxy
from waiting import wait_until

from lungseg_monai.inference.cli import main as lungseg_main
from lungseg_monai.inference.input_scan import scan_input_folder
from lungseg_monai.node import read_outcomes
from lungseg_monai.node.tls import server_context

pytestmark = [pytest.mark.skipif(MISSING is not None, reason=MISSING or ""), pytest.mark.filterwarnings("ignore")]

LUNGSEG = str(Path(sys.executable).with_name("lungseg"))


def _prepare_films(dicom_dir: Path, folder: Path) -> dict[str, Path]:
    """Every radiograph a folder run finds in the shared DICOMs, saved with a unique SOP instance UID: {uid: file}."""
    folder.mkdir()
    films: dict[str, Path] = {}
    for path in scan_input_folder(dicom_dir).images:
        ds = read_film(path)
        if str(ds.SOPInstanceUID) in films:  # some shared files are variants of one instance
            ds = read_film(path, fresh_uids=True)
        target = folder / f"{path.stem}.dcm"
        ds.save_as(target, enforce_file_format=True)
        films[str(ds.SOPInstanceUID)] = target
    return films


@pytest.fixture(scope="module")
def pacs_and_node(tmp_path_factory, dicom_dir):
    """Orthanc holding the shared films, ``lungseg serve`` forwarding to it, and the films sent to the node."""
    root = tmp_path_factory.mktemp("orthanc")
    films = _prepare_films(dicom_dir, root / "films")
    node_port = free_port()
    orthanc = Orthanc(root / "orthanc", {"lungseg": ["LUNGSEG", "127.0.0.1", node_port]})
    out = root / "node"
    command = [LUNGSEG, "serve", "--port", str(node_port), "--output-dir", str(out), "--host", "127.0.0.1"]
    command += ["--forward-to", f"ORTHANC@127.0.0.1:{orthanc.dicom_port}", "--allow", "ORTHANC@127.0.0.1"]
    command += ["--allow", "TESTSCU", "--max-workers", "2"]
    node = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: echo(node_port), 120, "the node")
        ids = {uid: orthanc.post("/instances", path.read_bytes())["ID"] for uid, path in films.items()}
        answer = orthanc.post("/modalities/lungseg/store", {"Resources": list(ids.values()), "Synchronous": True})
        assert answer["FailedInstancesCount"] == 0 and answer["InstancesCount"] == len(films)
        outcomes_file = out / "outcomes.jsonl"

        def segmented() -> dict[str, dict]:
            lines = read_outcomes(outcomes_file) if outcomes_file.exists() else []
            return {Path(line["film"]).stem: line for line in lines if line["event"] == "segmented"}

        outcomes = wait_until(lambda: len(segmented()) == len(films) and segmented(), 600, "every film segmented")
        yield {"orthanc": orthanc, "node": node, "films": films, "outcomes": outcomes, "out": out, "root": root}
    finally:
        if node.poll() is None:
            node.kill()
        orthanc.stop()


def _folder_run(films: dict[str, Path], output: Path) -> dict[str, str]:
    """Folder inference over the same files; return {SOP instance UID: status}."""
    lungseg_main(["--input-dir", str(next(iter(films.values())).parent), "--output-dir", str(output)])
    with (output / "run_summary.csv").open() as handle:
        status = {row["file"]: row["status"] for row in csv.DictReader(handle)}
    return {uid: status[path.name] for uid, path in films.items()}


def test_films_sent_by_orthanc_come_back_as_segs_equal_to_folder_inference(pacs_and_node):
    orthanc, films, outcomes = pacs_and_node["orthanc"], pacs_and_node["films"], pacs_and_node["outcomes"]
    folder_out = pacs_and_node["root"] / "folder-run"
    assert {uid: line["status"] for uid, line in outcomes.items()} == _folder_run(films, folder_out)
    done = {uid for uid, line in outcomes.items() if line["status"] == "done"}
    assert len(done) >= 10 and any(line["status"] == "failed" for line in outcomes.values())  # the broken J2K
    segs = lambda: len(ids := orthanc.find_instances({"Modality": "SEG"})) >= len(done) and ids  # noqa: E731
    seg_ids = wait_until(segs, 120, "SEGs")
    assert len(seg_ids) == len(done)
    for seg_id in seg_ids:
        seg = read_seg(pydicom.dcmread(BytesIO(orthanc.file(seg_id))))
        referenced = seg.ReferencedSeriesSequence[0]
        uid = str(referenced.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID)
        source = pydicom.dcmread(films[uid], stop_before_pixels=True)
        assert uid in done and referenced.SeriesInstanceUID == source.SeriesInstanceUID
        assert seg.StudyInstanceUID == source.StudyInstanceUID
        # highdicom reads the SEG back: right lung, left lung, cardiomediastinum (which overlaps the lungs)
        segments = seg.get_pixels_by_source_instance([uid], segment_numbers=[1, 2, 3])[0] > 0
        folder_mask = np.asarray(Image.open(folder_out / f"{films[uid].name}.mask.png")) > 0
        folder_heart = np.asarray(Image.open(folder_out / f"{films[uid].name}.heart.png")) > 0
        # the node segments films in batches of its own: equal within the promise, not bit for bit
        assert_masks_agree(segments[..., 0] | segments[..., 1], folder_mask, films[uid].name)
        assert_masks_agree(segments[..., 2], folder_heart, films[uid].name)
    log = (pacs_and_node["out"] / "lungseg.log").read_text()
    assert "association from ORTHANC@127.0.0.1" in log and log.count("SEG of ") >= len(done)


def test_echo_from_orthanc_an_unsupported_sop_class_and_a_peer_not_allowed(pacs_and_node):
    orthanc = pacs_and_node["orthanc"]
    assert orthanc.post("/modalities/lungseg/echo", {}) == {}
    seg = orthanc.find_instances({"Modality": "SEG"})[0]  # a SEG is not a film: the node refuses its SOP class
    with pytest.raises(urllib.error.HTTPError):
        orthanc.post("/modalities/lungseg/store", {"Resources": [seg], "Synchronous": True})
    assert "Segmentation Storage" not in (pacs_and_node["out"] / "lungseg.log").read_text()
    port = int(pacs_and_node["orthanc"].config["DicomModalities"]["lungseg"][2])
    assert scu("INTRUDER").associate("127.0.0.1", port, ae_title="LUNGSEG").is_rejected


def test_segment_study_over_dicomweb(pacs_and_node):
    orthanc, films = pacs_and_node["orthanc"], pacs_and_node["films"]
    study = str(pydicom.dcmread(films[next(u for u, p in films.items() if p.stem == "RG1_UNCR")]).StudyInstanceUID)
    chest = [u for u, p in films.items() if pydicom.dcmread(p, stop_before_pixels=True).StudyInstanceUID == study]
    before = orthanc.find_instances({"Modality": "SEG", "StudyInstanceUID": study})
    out = pacs_and_node["root"] / "dicomweb"
    command = [LUNGSEG, "segment-study", "--dicomweb", f"{orthanc.url}/dicom-web", "--study", study]
    run = subprocess.run([*command, "--output-dir", str(out)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    lines = [line for line in read_outcomes(out / "outcomes.jsonl") if line["event"] == "segmented"]
    assert sorted(Path(line["film"]).stem for line in lines) == sorted(chest)  # the SEGs there are not films
    after = orthanc.find_instances({"Modality": "SEG", "StudyInstanceUID": study})
    assert len(after) == len(before) + sum(line["status"] == "done" for line in lines) > len(before)


def test_sigterm_stops_the_node_cleanly(pacs_and_node):
    node = pacs_and_node["node"]
    node.send_signal(signal.SIGTERM)
    output, _ = node.communicate(timeout=60)
    assert node.returncode == 0, output
    assert "stopping: Ctrl-C or SIGTERM" in output
    assert not any(
        name.startswith(".") and name.endswith(".tmp")
        for _, _, names in os.walk(pacs_and_node["out"])
        for name in names
    )


def test_the_readme_shows_the_orthanc_configuration_of_this_test(tmp_path):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Run it as a DICOM node", 1)[1].split("\n## ", 1)[0]
    shown = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    orthanc = Orthanc(tmp_path, {"lungseg": ["LUNGSEG", "127.0.0.1", 11112]})
    try:
        used = orthanc.config
    finally:
        orthanc.stop()
    ports = {"DicomPort", "HttpPort"}  # chosen free at run time
    assert {k: v for k, v in shown.items() if k not in ports} == {k: used[k] for k in shown if k not in ports}
    assert set(used) - set(shown) == {"Name", "StorageDirectory", "IndexDirectory"}


def test_orthanc_and_the_node_both_in_dicom_tls(dicom_dir, tmp_path):
    pki = make_pki(tmp_path / "pki")
    node_port = free_port()
    tls = {
        "DicomTlsEnabled": True,
        "DicomTlsCertificate": str(pki.server_cert),
        "DicomTlsPrivateKey": str(pki.server_key),
        "DicomTlsTrustedCertificates": str(pki.ca),
        "DicomTlsRemoteCertificateRequired": True,
    }
    lungseg = {"AET": "LUNGSEG", "Host": "127.0.0.1", "Port": node_port, "UseDicomTls": True}
    orthanc = Orthanc(tmp_path / "orthanc", {"lungseg": lungseg}, extra=tls)
    out = tmp_path / "node"
    command = [LUNGSEG, "serve", "--port", str(node_port), "--output-dir", str(out), "--allow", "ORTHANC@127.0.0.1"]
    command += ["--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key), "--tls-ca", str(pki.ca)]
    command += ["--forward-to", f"ORTHANC@127.0.0.1:{orthanc.dicom_port}", "--forward-ca", str(pki.ca)]
    node = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: "(DICOM TLS)" in _text(out / "lungseg.log") or node.poll() is not None, 120, "the node")
        assert node.poll() is None, node.communicate()[0]
        assert orthanc.post("/modalities/lungseg/echo", {}) == {}  # C-ECHO over TLS, both certificates checked
        film = read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", fresh_uids=True)
        film_file = tmp_path / "film.dcm"
        film.save_as(film_file, enforce_file_format=True)
        film_id = orthanc.post("/instances", film_file.read_bytes())["ID"]
        answer = orthanc.post("/modalities/lungseg/store", {"Resources": [film_id], "Synchronous": True})
        assert answer["FailedInstancesCount"] == 0
        seg_ids = wait_until(lambda: orthanc.find_instances({"Modality": "SEG"}), 300, "the SEG, sent back over TLS")
        seg = read_seg(pydicom.dcmread(BytesIO(orthanc.file(seg_ids[0]))))
        referenced = seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID
        assert str(referenced) == str(film.SOPInstanceUID)
        assert not echo(node_port, calling="ORTHANC")  # a plain-TCP peer gets no association, allowed or not
    finally:
        node.terminate()
        output = node.communicate(timeout=60)[0]
        orthanc.stop()
    assert node.returncode == 0, output
    audit = [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines()]
    assert [line["outcome"] for line in audit if line["event"] == "seg"] == ["sent"]


def test_segment_study_over_https_with_basic_authentication_from_the_environment(dicom_dir, tmp_path):
    pki = make_pki(tmp_path / "pki")
    orthanc = Orthanc(tmp_path / "orthanc", {}, extra={"AuthenticationEnabled": True,
                                                      "RegisteredUsers": {"radiology": "s3cret"}})  # fmt: skip
    https = TlsProxy(server_context(pki.server_cert, pki.server_key), orthanc.http_port)  # Orthanc's own HTTPS crashes
    try:
        film = read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", fresh_uids=True)
        film_file = tmp_path / "film.dcm"
        film.save_as(film_file, enforce_file_format=True)
        orthanc.post("/instances", film_file.read_bytes())
        command = [LUNGSEG, "segment-study", "--dicomweb", f"https://127.0.0.1:{https.port}/dicom-web", "--study",
                   str(film.StudyInstanceUID)]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("LUNGSEG_DICOMWEB_")}

        def run(name: str, *options: str, **variables: str) -> subprocess.CompletedProcess:
            return subprocess.run([*command, "--output-dir", str(tmp_path / name), *options], capture_output=True,
                                  text=True, timeout=600, env={**env, **variables})  # fmt: skip

        untrusted = run("untrusted", "--dicomweb-user", "radiology", LUNGSEG_DICOMWEB_PASSWORD="s3cret")
        assert untrusted.returncode == 3 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
        anonymous = run("anonymous", "--dicomweb-ca", str(pki.ca))
        assert anonymous.returncode == 3 and "401" in anonymous.stderr and "Traceback" not in anonymous.stderr
        allowed = run("radiology", "--dicomweb-ca", str(pki.ca), "--dicomweb-user", "radiology",
                      LUNGSEG_DICOMWEB_PASSWORD="s3cret")  # fmt: skip
        assert allowed.returncode == 0, allowed.stderr
        assert len(orthanc.find_instances({"Modality": "SEG"})) == 1
    finally:
        https.stop()
        orthanc.stop()
    assert "s3cret" not in (tmp_path / "radiology" / "lungseg.log").read_text()


def _text(path: Path) -> str:
    return path.read_text() if path.is_file() else ""
