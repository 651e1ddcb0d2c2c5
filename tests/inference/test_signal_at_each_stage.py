"""A stop signal at each named stage of a real folder run: exit 130 with a complete summary, or the run's own code.

The run pauses at one stage (``LUNGSEG_PAUSE_AT``, :func:`lungseg_monai.stop_signals.pause_point`) and the test
sends the signal there, so the moments that are hard to hit at random (after the last batch, during the summary
write, while the process exits) are each hit every time. Never death by the signal, never a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from shared_data import REPO

from lungseg_monai.stop_signals import PAUSE_VARIABLE

SAMPLE_IMAGES = REPO / "sample_data" / "cxr-lung-lr-sample" / "images"
INTERRUPTED, FINISHED = 130, 0
#: stage -> (exit code, the summary's ``interrupted``, statuses the summary may hold)
STAGES = {
    "run-start": (INTERRUPTED, True, {"not_reached"}),
    "iteration": (INTERRUPTED, True, {"done", "not_reached"}),
    "last-iteration": (INTERRUPTED, True, {"done"}),
    "summary-write": (FINISHED, False, {"done"}),
    "settled": (FINISHED, False, {"done"}),
    "exit": (FINISHED, False, {"done"}),
}
LUNGSEG = [str(Path(sys.executable).parent / "lungseg")]
MONAI_BUNDLE = [sys.executable, "-m", "monai.bundle", "run", "--config_file",
                "['bundles/unet/configs/train.json','bundles/unet/configs/inference.json']",
                "--bundle_root", "bundles/unet"]  # fmt: skip
CASES = [("lungseg", stage, sig) for stage in STAGES for sig in ("SIGTERM", "SIGINT")]
CASES += [("monai.bundle", stage, "SIGTERM") for stage in ("iteration", "summary-write", "exit")]


def _command(kind: str, input_dir: Path, output_dir: Path) -> list[str]:
    if kind == "lungseg":
        return [*LUNGSEG, "--input-dir", str(input_dir), "--output-dir", str(output_dir),
                "--batch-size", "1", "--num-workers", "1", "--no-dicom-seg", "--no-nifti"]  # fmt: skip
    return [*MONAI_BUNDLE, "--input_dir", str(input_dir), "--output_dir", str(output_dir), "--batch_size", "1",
            "--num_workers", "1", "--write_nifti", "False", "--write_dicom_seg", "False"]  # fmt: skip


def _wait_for_pause(process: subprocess.Popen, stage: str) -> list[str]:
    """Read stderr until the run says it paused at ``stage``; return the lines read."""
    lines = []
    for line in process.stderr:
        lines.append(line)
        if line.rstrip().endswith(f"lungseg: paused at {stage}"):  # after a progress bar's carriage return
            return lines
    process.wait(timeout=60)
    raise AssertionError(f"the run ended without pausing at {stage}: {''.join(lines)[-2000:]}")


def _communicate_or_kill(process: subprocess.Popen, timeout: float) -> str:
    """Return the rest of the run's stderr; a run still going after ``timeout`` is killed and the test fails."""
    try:
        return process.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stderr = process.communicate()[1]
        raise AssertionError(f"the run was still going {timeout} s after the signal: {stderr[-3000:]}") from None


@pytest.fixture
def three_films(tmp_path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for image in sorted(SAMPLE_IMAGES.glob("*.png"))[:3]:
        shutil.copy(image, folder)
    return folder


@pytest.mark.parametrize("kind, stage, signal_name", CASES)
def test_a_signal_at_each_stage_ends_the_run_cleanly(three_films, tmp_path, kind, stage, signal_name):
    expected_code, expected_interrupted, allowed_statuses = STAGES[stage]
    output_dir = tmp_path / "out"
    env = {**os.environ, PAUSE_VARIABLE: stage, "LUNGSEG_PAUSE_SECONDS": "60"}
    process = subprocess.Popen(_command(kind, three_films, output_dir), cwd=REPO, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        before = _wait_for_pause(process, stage)
        if signal_name == "SIGINT":
            os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group
        else:
            process.send_signal(signal.SIGTERM)
        stderr = "".join(before) + _communicate_or_kill(process, timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == expected_code, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    summary = json.loads((output_dir / "run_summary.json").read_text())
    assert summary["interrupted"] is expected_interrupted
    statuses = [entry["status"] for entry in summary["files"]]
    assert len(statuses) == 3 and set(statuses) <= allowed_statuses, statuses
    if stage == "iteration":
        assert statuses.count("done") == 1, statuses  # the film in hand was finished, the others not begun
    for entry in summary["files"]:
        if entry["status"] == "done":
            assert (output_dir / f"{entry['file']}.json").is_file()
            assert (output_dir / f"{entry['file']}.mask.png").is_file()
