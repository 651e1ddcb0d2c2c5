"""The README's "Using the bundles" commands, run one by one in a fresh copy of the checkout, as a user would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from readme_commands import readme_commands
from shared_data import DICOM

REPO = Path(__file__).resolve().parents[1]
FILMS = ("fo-dicom/CR-MONO1-10-chest", "pylibjpeg-data/966_fixed.dcm", "pylibjpeg-data/966_BROKEN_truncated_j2k.dcm")


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """The committed files in a new folder, with ``../shared`` beside it as in the README."""
    root = tmp_path_factory.mktemp("clone")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        target = root / "repo" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (REPO / name).is_symlink():
            target.symlink_to(os.readlink(REPO / name))
        elif (REPO / name).is_file():
            shutil.copy2(REPO / name, target)
    (root / "shared").symlink_to(DICOM.parents[1])
    return root / "repo"


def _as_user(command: str, films: Path, out: Path) -> str:
    """The README command with its placeholders filled in; training runs one epoch (the test's only change)."""
    command = command.replace("/path/to/dicoms", str(films)).replace("/path/to/out", str(out))
    command = command.replace("/path/to/film.dcm", str(films / FILMS[1]))
    if " training " in command:
        command += " --num_epochs 1"
    return command


def test_using_the_bundles_commands_work_in_a_fresh_checkout(checkout, tmp_path):
    commands = readme_commands(REPO / "README.md", "## Using the bundles")
    assert len(commands) == 10, commands
    films = tmp_path / "films"
    for name in FILMS:
        (films / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DICOM / name, films / name)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for index, command in enumerate(commands):
        out = tmp_path / f"out{index}"
        result = subprocess.run(
            _as_user(command, films, out), shell=True, cwd=checkout, env=env, capture_output=True, text=True
        )
        # A folder run with a broken film exits 1 (some files failed), as the README says; the rest exit 0.
        folder_run = "/path/to/dicoms" in command
        expected = 1 if folder_run else 0
        assert result.returncode == expected, (command, result.stderr[-3000:])
        if folder_run or "/path/to/film.dcm" in command:
            summary = json.loads((out / "run_summary.json").read_text())
            counts = {"done": 2, "failed": 1} if folder_run else {"done": 1}  # one film
            assert summary["counts"] == counts, (command, summary["counts"])
    assert (checkout / "runs" / "unet" / "models").is_dir() and (checkout / "runs" / "pix2pix").is_dir()
    assert json.loads((checkout / "eval" / "unet" / "test" / "summary.json").read_text())["cases"] == 13
    assert (checkout / "bundles" / "unet" / "models" / "model.ts").is_file()
    assert (checkout / "bundles" / "unet" / "models" / "model.onnx").is_file()
