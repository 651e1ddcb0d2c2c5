"""``python -m monai.bundle run`` of either bundle, as a user types it: a mistake in the arguments ends the run with
one line and exit code 2 before any work, and Ctrl-C in an evaluation with one line and exit code 130."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MANIFEST = "data_manifests/cxr-lung-lr.json"


def _configs(bundle: str, *overlays: str) -> str:
    return repr([f"bundles/{bundle}/configs/{name}.json" for name in ("train", *overlays)])


def _run_bundle(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "monai.bundle", "run", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["training", "--config_file", "bundles/unet/configs/train.json", "--dataset_dir", "/no/such/set"],
            "error: --dataset_dir /no/such/set: no such folder",
        ),
        (
            ["training", "--config_file", "bundles/pix2pix/train.json", "--dataset_dir", "{tmp}",
             "--datalist", MANIFEST],
            "error: --dataset_dir {tmp}: 228 file(s) that cxr-lung-lr.json's 'training' split lists are missing, the "
            "first {tmp}/images/ciaa199.pdf-001-b.png",
        ),
        (
            ["--config_file", _configs("unet", "evaluate"), "--bundle_root", "bundles/unet",
             "--dataset_dir", "{cxr}", "--eval_split", "tset"],
            f"error: {REPO / MANIFEST}: no split 'tset' in this datalist (it has training, validation, test, refused)",
        ),
        (
            ["--config_file", _configs("pix2pix", "evaluate"), "--bundle_root", "bundles/pix2pix",
             "--dataset_dir", "{cxr}", "--ckpt_path", "{tmp}/model.pt"],
            "error: --ckpt_path {tmp}/model.pt: no such file",
        ),
        (
            ["--config_file", _configs("unet", "inference"), "--bundle_root", "bundles/unet",
             "--input_dir", "{tmp}/films", "--output_dir", "{tmp}/out"],
            "error: --input-dir {tmp}/films: no such folder",
        ),
    ],
    ids=["train-no-dataset", "train-files-missing", "evaluate-unknown-split", "evaluate-no-weights", "infer-no-input"],
)  # fmt: skip
def test_a_mistake_is_one_line_and_exit_code_2(args, message, tmp_path, cxr_dir):
    filled = [arg.format(tmp=tmp_path, cxr=cxr_dir) for arg in args]
    result = _run_bundle(*filled)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-3000:]
    last = result.stderr.rstrip("\n").splitlines()[-1]
    assert last.startswith(message.format(tmp=tmp_path, cxr=cxr_dir)), last
    assert not (tmp_path / "out").exists()


def test_ctrl_c_ends_an_evaluation_with_one_line(tmp_path, cxr_dir):
    command = [
        sys.executable, "-m", "monai.bundle", "run", "--config_file", _configs("unet", "evaluate"),
        "--bundle_root", "bundles/unet", "--dataset_dir", str(cxr_dir), "--eval_split", "validation",
        "--output_dir", str(tmp_path / "report"),
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, start_new_session=True, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    console = []
    for line in process.stdout:  # the checkpoint loader's line: the evaluator has started its first batch
        console.append(line)
        if "Restored all variables from" in line:
            os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C, to the whole process group
            break
    console.append(process.communicate(timeout=120)[0])
    output = "".join(console)
    assert process.returncode == 130, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    said = rf"evaluation interrupted \(\d+ of 14 batches read\); no report was written to {tmp_path}/report"
    assert re.search(said, output), output[-3000:]
    assert not (tmp_path / "report" / "summary.json").exists()


def test_a_folder_run_that_cannot_start_exits_3_with_its_traceback(tmp_path):
    damaged = tmp_path / "model.pt"
    damaged.write_bytes(b"not a checkpoint")
    result = _run_bundle(
        "--config_file", _configs("unet", "inference"), "--bundle_root", "bundles/unet",
        "--input_dir", "sample_data/dicom", "--output_dir", str(tmp_path / "out"), "--ckpt_path", str(damaged),
    )  # fmt: skip
    # exit code 1 would say "some files failed" and send the user to a run summary that was never written
    assert result.returncode == 3, result.stderr[-3000:]
    assert "Traceback" in result.stderr and "UnpicklingError" in result.stderr
