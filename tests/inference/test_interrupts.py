"""Real folder runs killed at random points: what exists is complete, workers stop, the rerun finishes.

Each case runs the installed ``lungseg`` command on a copy of the real DICOM folder, waits for the first finished
image, sleeps a seeded random time and sends a signal: Ctrl-C to the process group (as a terminal does), SIGTERM to
the main process (as ``kill`` or a scheduler does), or SIGKILL. ``LUNGSEG_LONG_TESTS=1`` adds more random points.
``test_signal_at_each_stage.py`` sends them at named stages instead.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nibabel as nib
import pydicom
import pytest
from PIL import Image
from waiting import wait_until

from lungseg_monai.data.atomic_writes import TEMPORARY_NAME

SEEDS = range(4) if os.environ.get("LUNGSEG_LONG_TESTS") else range(1)
CASES = [(sig, seed) for sig in ("SIGINT", "SIGTERM", "SIGKILL") for seed in SEEDS]


def _command(input_dir: Path, output_dir: Path) -> list[str]:
    lungseg = str(Path(sys.executable).parent / "lungseg")  # the installed command, as a user or a scheduler runs it
    return [lungseg, "--input-dir", str(input_dir), "--output-dir", str(output_dir),
            "--num-workers", "2", "--batch-size", "2"]  # fmt: skip


def _wait_for_first_record(output_dir: Path, process: subprocess.Popen, timeout: float = 180) -> None:
    wait_until(lambda: any(p.name.endswith((".dcm.json", "-chest.json")) for p in output_dir.rglob("*.json")),
               timeout, "the run's first record", interval=0.05, process=process)  # fmt: skip


def _processes_mentioning(text: str) -> list[int]:
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                pids.append(int(cmdline.parent.name))
        except OSError:
            continue
    return pids


def _wait_until_gone(text: str, timeout: float) -> None:
    """Wait until no process mentions ``text``: a killed run's workers die with it, but not in the same instant."""
    wait_until(lambda: not _processes_mentioning(text), timeout, "the run's worker processes to end", interval=0.1)


def _assert_outputs_complete(output_dir: Path) -> None:
    """Every output that exists reads back whole; a record exists only beside the outputs it lists."""
    for record_file in output_dir.rglob("*.json"):
        record = json.loads(record_file.read_text())
        if record_file.name in ("run_summary.json", "mask_labels.json"):
            continue
        for name in record["outputs"].values():
            assert (record_file.parent / name).is_file(), (record_file, name)
    for path in output_dir.rglob("*"):
        if TEMPORARY_NAME.match(path.name):
            continue
        if path.name.endswith(".png"):
            Image.open(path).load()
        elif path.name.endswith(".nii.gz"):
            nib.load(path).get_fdata()
        elif path.name.endswith(".seg.dcm"):
            assert pydicom.dcmread(path).Modality == "SEG"


@pytest.fixture
def dicom_copy(dicom_dir, tmp_path) -> Path:
    target = tmp_path / "in"
    shutil.copytree(dicom_dir, target)
    return target


@pytest.mark.parametrize("signal_name, seed", CASES)
def test_a_killed_run_leaves_complete_outputs_and_the_rerun_finishes(dicom_copy, tmp_path, signal_name, seed):
    output_dir = tmp_path / f"out-{signal_name}"
    output_dir.mkdir()
    process = subprocess.Popen(_command(dicom_copy, output_dir), start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    _wait_for_first_record(output_dir, process)
    time.sleep(random.Random(seed).uniform(0.0, 1.5))
    signum = getattr(signal, signal_name)
    if signal_name == "SIGINT":
        os.killpg(process.pid, signum)  # a terminal's Ctrl-C reaches every process of the group
    else:
        process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    _wait_until_gone(str(output_dir), timeout=30)
    summary_file = output_dir / "run_summary.json"
    if signal_name == "SIGKILL":
        assert process.returncode == -signal.SIGKILL
    elif process.returncode != 1:  # 1: the run had already finished (the broken file failed) before the signal
        assert process.returncode == 130, (process.returncode, stderr[-2000:])  # never -15: no death by SIGTERM
        summary = json.loads(summary_file.read_text())
        assert summary["interrupted"] is True
        statuses = {f["status"] for f in summary["files"]}
        assert "not_reached" in statuses or "done" in statuses
        assert "Traceback" not in stderr
    _assert_outputs_complete(output_dir)

    rerun = subprocess.run(_command(dicom_copy, output_dir), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 1, rerun.stderr[-2000:]  # the deliberately broken J2K file fails, nothing else
    summary = json.loads(summary_file.read_text())
    by_status = {}
    for entry in summary["files"]:
        by_status.setdefault(entry["status"], []).append(entry["file"])
    assert by_status["failed"] == ["pylibjpeg-data/966_BROKEN_truncated_j2k.dcm"]
    assert "not_reached" not in by_status
    assert len(by_status.get("done", [])) + len(by_status.get("already_done", [])) == 11
    assert not [p for p in output_dir.rglob("*") if TEMPORARY_NAME.match(p.name)]
    _assert_outputs_complete(output_dir)
