"""DICOM TLS for ``lungseg serve`` and its forwarder, with a throw-away CA; DICOMweb credentials and trust."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from dicom_peers import SegCollector, read_film, scu
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom.sop_class import SegmentationStorage
from throwaway_pki import make_pki
from waiting import wait_until

from lungseg_monai.inference.usage import UsageError
from lungseg_monai.node import RemoteNode
from lungseg_monai.node.dicomweb_auth import dicomweb_session
from lungseg_monai.node.forwarding import ForwardError, SegForwarder
from lungseg_monai.node.tls import TlsError, client_context, server_context

pytestmark = pytest.mark.filterwarnings("ignore")

LUNGSEG = str(Path(sys.executable).with_name("lungseg"))


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def _store(port: int, film, tls_args=None):
    """Associate with the node (over TLS with ``tls_args``) and C-STORE ``film``; return its status, or None."""
    ae = scu("TESTSCU", [(str(film.SOPClassUID), str(film.file_meta.TransferSyntaxUID))])
    ae.acse_timeout = ae.network_timeout = 20
    assoc = ae.associate("127.0.0.1", port, ae_title="LUNGSEG", tls_args=tls_args)
    if not assoc.is_established:
        return None
    try:
        return int(assoc.send_c_store(film).Status)
    finally:
        assoc.release()


def test_a_tls_node_takes_films_over_tls_only_and_from_certified_peers_only(start_node, pki, dicom_dir, tmp_path):
    node = start_node(tls=server_context(pki.server_cert, pki.server_key, client_ca=pki.ca))
    film = read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", fresh_uids=True)
    certified = client_context(pki.ca, pki.client_cert, pki.client_key)
    assert _store(node.port, film, tls_args=(certified, "localhost")) == 0x0000
    assert _store(node.port, film) is None  # plain TCP: no association with a TLS node
    anonymous = client_context(pki.ca)  # TLS, but no client certificate
    assert _store(node.port, film, tls_args=(anonymous, "localhost")) is None
    assert node.wait_until_idle(timeout=120)
    assert len(list((tmp_path / "out" / "received").rglob("*.dcm"))) == 1  # only the certified peer's film
    refused = [line for line in node.audit.read() if line["outcome"] == "rejected"]  # node authentication failures
    assert [line["reason"] for line in refused] == [
        "TLS handshake failed (WRONG_VERSION_NUMBER)", "TLS handshake failed (PEER_DID_NOT_RETURN_A_CERTIFICATE)"
    ]  # fmt: skip
    assert all(line["calling_ae"] is None and line["peer_address"].startswith("127.0.0.1:") for line in refused)
    # The node's own certificate is checked too: a client that trusts another CA does not talk to it.
    assert _store(node.port, film, tls_args=(client_context(pki.other_ca, pki.client_cert, pki.client_key),
                                             "localhost")) is None  # fmt: skip


def _as_seg(film: Path, target: Path) -> Path:
    """A small film relabelled as a SEG: what the forwarder sends is not looked at, only sent and confirmed."""
    ds = read_film(film)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = SegmentationStorage
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(target, enforce_file_format=True)
    return target


def test_the_forwarder_verifies_the_pacs_certificate(pki, dicom_dir, tmp_path):
    pacs = SegCollector(tls=server_context(pki.server_cert, pki.server_key))
    seg = _as_seg(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", tmp_path / "film.seg.dcm")
    try:
        trusting = SegForwarder(RemoteNode("PACS", "127.0.0.1", pacs.port), "LUNGSEG", tmp_path / "marks",
                                tls=client_context(pki.ca))  # fmt: skip
        trusting.send(seg, "a.dcm")
        wait_until(lambda: pacs.received, 30, "the SEG sent over TLS", interval=0.1)
        wary = SegForwarder(RemoteNode("PACS", "127.0.0.1", pacs.port), "LUNGSEG", tmp_path / "marks",
                            tls=client_context(pki.other_ca))  # fmt: skip
        with pytest.raises(ForwardError, match="certificate is not trusted: unable to get local issuer certificate"):
            wary.send(seg, "b.dcm")
        plain = SegForwarder(RemoteNode("PACS", "127.0.0.1", pacs.port), "LUNGSEG", tmp_path / "marks")
        with pytest.raises(ForwardError):
            plain.send(seg, "c.dcm")
    finally:
        pacs.stop()
    assert len(pacs.received) == 1
    assert json.loads((tmp_path / "marks" / "a.dcm.json").read_text())["destination"] == f"PACS@127.0.0.1:{pacs.port}"
    assert not (tmp_path / "marks" / "b.dcm.json").exists()


def test_unusable_tls_files_are_named_in_one_line(pki, tmp_path):
    with pytest.raises(TlsError, match=r"missing\.pem: no such file"):
        server_context(tmp_path / "missing.pem", pki.server_key)
    with pytest.raises(TlsError, match="not a certificate and its private key"):
        server_context(pki.server_cert, pki.client_key)  # a key that is not the certificate's
    with pytest.raises(TlsError, match="not a PEM CA certificate"):
        client_context(pki.server_key)
    out = tmp_path / "node"
    base = [LUNGSEG, "serve", "--port", "0", "--output-dir", str(out), "--allow", "TESTSCU"]
    for extra, said in [
        (["--tls-cert", str(pki.server_cert)], "--tls-cert and --tls-key go together"),
        (["--tls-ca", str(pki.ca)], "--tls-ca requires --tls-cert and --tls-key"),
        (["--tls-cert", str(pki.server_cert), "--tls-key", str(pki.ca)], "not a certificate and its private key"),
        (["--forward-ca", str(pki.ca)], "--forward-ca applies to --forward-to"),
    ]:
        run = subprocess.run([*base, *extra], capture_output=True, text=True, timeout=120)
        assert run.returncode == 2 and said in run.stderr, run.stderr
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_dicomweb_credentials_come_from_the_environment_or_a_file(pki, tmp_path):
    token_file, password_file = tmp_path / "token", tmp_path / "password"
    token_file.write_text("from-a-file\n")
    password_file.write_text("s3cret\n")
    session = dicomweb_session(environ={"LUNGSEG_DICOMWEB_TOKEN": "from-the-environment"})
    assert session.headers["Authorization"] == "Bearer from-the-environment" and session.auth is None
    session = dicomweb_session(token_file=str(token_file), environ={"LUNGSEG_DICOMWEB_TOKEN": "ignored"})
    assert session.headers["Authorization"] == "Bearer from-a-file"
    session = dicomweb_session(user="radiology", environ={"LUNGSEG_DICOMWEB_PASSWORD": "pw"})
    assert session.auth == ("radiology", "pw") and "Authorization" not in session.headers
    session = dicomweb_session(ca=str(pki.ca), user="radiology", password_file=str(password_file), environ={})
    assert session.auth == ("radiology", "s3cret") and session.verify == str(pki.ca)
    with pytest.MonkeyPatch.context() as patch:  # requests would let the machine's bundle override the CA given
        patch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
        settings = session.merge_environment_settings("https://pacs.example.org/", {}, None, None, None)
    assert settings["verify"] == str(pki.ca)
    assert "Authorization" not in dicomweb_session(environ={}).headers
    with pytest.raises(UsageError, match="give its password"):
        dicomweb_session(user="radiology", environ={})
    with pytest.raises(UsageError, match="exclude each other"):
        dicomweb_session(user="radiology", environ={"LUNGSEG_DICOMWEB_TOKEN": "t", "LUNGSEG_DICOMWEB_PASSWORD": "p"})
    with pytest.raises(UsageError, match="cannot be read"):
        dicomweb_session(token_file=str(tmp_path / "missing"), environ={})
    with pytest.raises(UsageError, match="no such file"):
        dicomweb_session(ca=str(tmp_path / "missing.pem"), environ={})
    # No option takes a secret itself: the help offers files and variables only.
    helped = subprocess.run([LUNGSEG, "segment-study", "--help"], capture_output=True, text=True, timeout=120).stdout
    assert "--dicomweb-token-file" in helped and "--dicomweb-password-file" in helped
    assert "--dicomweb-token " not in helped and "--dicomweb-password " not in helped


def test_a_peer_that_connects_and_says_nothing_does_not_hold_up_a_tls_node(start_node, pki, dicom_dir):
    node = start_node(tls=server_context(pki.server_cert, pki.server_key, client_ca=pki.ca))
    film = read_film(dicom_dir / "pydicom-data_pypi" / "RG1_UNCR.dcm", fresh_uids=True)
    certified = client_context(pki.ca, pki.client_cert, pki.client_key)
    statuses: list[int | None] = []
    with socket.create_connection(("127.0.0.1", node.port)):  # no TLS handshake, no data
        time.sleep(0.5)
        # Before 0.7.2 the handshake ran in the node's accept loop, and this association waited for it forever.
        sender = threading.Thread(target=lambda: statuses.append(_store(node.port, film, (certified, "localhost"))),
                                  daemon=True)  # fmt: skip
        sender.start()
        sender.join(timeout=60)
    assert statuses == [0x0000]
