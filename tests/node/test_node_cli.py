"""``lungseg serve`` / ``segment-study``: a user's mistake is one line and exit 2; addresses are read strictly."""

from __future__ import annotations

import socket

import pytest

from lungseg_monai.cli import main
from lungseg_monai.inference.output_folder import locked_file
from lungseg_monai.inference.usage import UsageError
from lungseg_monai.node import AllowedPeer, RemoteNode


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--forward-to", "PACS@host"], "--forward-to PACS@host: expected AE@host:port"),
        (["--forward-to", "TOO_LONG_AE_TITLE_X@h:104"], "an AE title has 1 to 16 printable characters"),
        (["--allow", "PACS@"], "--allow PACS@: expected AE or AE@host"),
        (["--allow", "PACS@no-such-host.invalid"], "--allow PACS@no-such-host.invalid: host no-such-host.invalid"),
        (["--max-queue", "0"], "--max-queue 0: must be at least 1"),
        (["--bundle", "nope"], "--bundle nope: neither unet, pix2pix nor a bundle folder"),
        (["--allow", "PACS", "--allow-any-peer"], "--allow and --allow-any-peer exclude each other"),
        ([], "name the peers that may send films (--allow AE@HOST, repeatable) or pass --allow-any-peer"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(arguments, message, tmp_path, capsys):
    if "--allow" not in " ".join(arguments) and arguments:
        arguments = [*arguments, "--allow", "PACS"]  # a node named its peers: the mistake is the other argument
    assert main(["serve", "--output-dir", str(tmp_path / "out"), *arguments]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lungseg: error: ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--dicomweb", "pacs:8042", "--study", "1.2.3"], "--dicomweb pacs:8042: expected an http(s) URL"),
        (["--dicomweb", "http://pacs/dicom-web", "--study", "../1"], "--study ../1: not a valid UID"),
    ],
)
def test_segment_study_refuses_a_bad_url_or_uid(arguments, message, tmp_path, capsys):
    assert main(["segment-study", "--output-dir", str(tmp_path / "out"), *arguments]) == 2
    assert message in capsys.readouterr().err


def test_a_port_in_use_and_an_output_folder_in_use_are_usage_errors(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port), "--output-dir", str(tmp_path / "a"), "--allow", "PACS"]) == 2
    assert f"--port {port}: cannot listen on 127.0.0.1" in capsys.readouterr().err
    (tmp_path / "b").mkdir()
    with locked_file(tmp_path / "b" / ".lungseg-node.lock"):
        assert main(["serve", "--port", "0", "--output-dir", str(tmp_path / "b"), "--allow", "PACS"]) == 2
    assert "another node uses it" in capsys.readouterr().err


def test_peer_addresses():
    assert RemoteNode.parse("PACS@10.0.0.5:104") == RemoteNode("PACS", "10.0.0.5", 104)
    assert RemoteNode.parse("PACS@[::1]:11112").host == "::1"
    allowed = AllowedPeer.parse("PACS@10.0.0.5")
    assert allowed.admits("PACS", "10.0.0.5") and not allowed.admits("PACS", "10.0.0.6")
    assert AllowedPeer.parse("PACS").admits("PACS  ", "anywhere") and not AllowedPeer.parse("PACS").admits("X", "h")
    assert AllowedPeer.parse("PACS@localhost").admits("PACS", "127.0.0.1")  # a name is resolved once
    with pytest.raises(UsageError):
        RemoteNode.parse("PACS@host:70000")
