"""Folder runs split into shards: `lungseg --shard I/N` and torchrun, each file done once, one merged summary."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from free_ports import free_port
from mask_agreement import assert_masks_agree
from PIL import Image

from lungseg_monai.inference.cli import main as lungseg_main
from lungseg_monai.inference.output_folder import claim_output_folder
from lungseg_monai.inference.shards import Shard
from lungseg_monai.inference.usage import UsageError

REPO = Path(__file__).resolve().parents[2]
FILMS = ("fo-dicom/CR-MONO1-10-chest", "pydicom-data_pypi/RG1_UNCR.dcm", "pylibjpeg-data/966_BROKEN_truncated_j2k.dcm")


def _outcomes(output_dir: Path) -> list[tuple[str, str, str]]:
    summary = json.loads((output_dir / "run_summary.json").read_text())
    return sorted((f["file"], f["status"], f["reason"]) for f in summary["files"])


def _masks(output_dir: Path) -> dict[str, np.ndarray]:
    return {p.relative_to(output_dir).as_posix(): np.asarray(Image.open(p)) for p in output_dir.rglob("*.mask.png")}


def test_shard_parsing_and_torchrun_environment(monkeypatch):
    assert Shard.parse("1/4") == Shard(1, 4) and Shard(1, 4).label == "shard-1-of-4"
    assert [Shard(1, 3).owns(i) for i in range(6)] == [False, True, False, False, True, False]
    for bad in ("4/4", "-1/2", "1", "a/b", "0/0"):
        with pytest.raises(UsageError, match="--shard"):
            Shard.parse(bad)
    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("RANK", "2")
    assert Shard.from_environment() == Shard(2, 3)
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert Shard.from_environment() is None


def test_shards_lock_their_own_part_of_the_output_folder(tmp_path):
    with claim_output_folder(tmp_path, Shard(0, 2)):
        with pytest.raises(UsageError, match="another run of shard 0/2"):
            with claim_output_folder(tmp_path, Shard(0, 2)):
                pass
        with pytest.raises(UsageError, match="another lungseg run is writing into it"):
            with claim_output_folder(tmp_path, None):
                pass
        with claim_output_folder(tmp_path, Shard(1, 2)):  # the other shard writes beside it
            pass
    with claim_output_folder(tmp_path, None):
        with pytest.raises(UsageError, match="a whole-folder lungseg run"):
            with claim_output_folder(tmp_path, Shard(1, 2)):
                pass


def test_two_shards_give_the_outputs_of_one_run_and_one_merged_summary(dicom_dir, tmp_path):
    films = tmp_path / "films"
    for name in FILMS:
        (films / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(dicom_dir / name, films / name)
    (films / "notes.txt").write_text("not a film")
    whole, sharded = tmp_path / "whole", tmp_path / "sharded"
    assert lungseg_main(["--input-dir", str(films), "--output-dir", str(whole), "--num-workers", "0"]) == 1
    # A temporary file another shard is writing must survive shard 0's start; shard 0's own leftovers must not.
    (sharded / "pydicom-data_pypi").mkdir(parents=True)
    other = sharded / "pydicom-data_pypi" / ".RG1_UNCR.dcm.mask.png.abcd1234.tmp"  # film 1 of 0..2: shard 1's
    own = sharded / "fo-dicom" / ".CR-MONO1-10-chest.json.abcd1234.tmp"  # film 0: shard 0's
    own.parent.mkdir(parents=True)
    other.write_bytes(b"in progress")
    own.write_bytes(b"left by a killed run")
    args = ["--input-dir", str(films), "--output-dir", str(sharded), "--num-workers", "0", "--shard"]
    assert lungseg_main([*args, "0/2"]) == 1  # films 0 and 2: the chest and the broken film
    assert other.exists() and not own.exists()
    assert lungseg_main([*args, "1/2"]) == 0
    assert not other.exists()
    assert _outcomes(sharded) == _outcomes(whole)
    merged = json.loads((sharded / "run_summary.json").read_text())
    assert merged["complete"] and set(merged["shards"]) == {"shard-0-of-2", "shard-1-of-2"}
    assert merged["shards"]["shard-0-of-2"]["counts"] == {"ignored": 1, "done": 1, "failed": 1}
    # The shards ran one after the other here: together they took at least the sum of their own times.
    first, second = merged["shards"]["shard-0-of-2"], merged["shards"]["shard-1-of-2"]
    assert first["finished_at"] <= second["started_at"]
    assert (merged["started_at"], merged["finished_at"]) == (first["started_at"], second["finished_at"])
    assert merged["span_seconds"] >= first["wall_seconds"] + second["wall_seconds"] - 0.01
    assert merged["wall_seconds"] == max(first["wall_seconds"], second["wall_seconds"])
    masks, reference = _masks(sharded), _masks(whole)
    assert masks.keys() == reference.keys() and len(masks) == 2
    for name in masks:  # other batches in each shard: equal within the promise
        assert_masks_agree(masks[name], reference[name], name)


def test_torchrun_with_two_processes_matches_a_single_process_run(dicom_dir, tmp_path):
    configs = "['bundles/unet/configs/train.json','bundles/unet/configs/inference.json']"
    single, parallel = tmp_path / "single", tmp_path / "torchrun"
    common = ["-m", "monai.bundle", "run", "--config_file", configs, "--bundle_root", "bundles/unet",
              "--input_dir", str(dicom_dir), "--num_workers", "0"]  # fmt: skip
    port = str(free_port())  # not a fixed port: another test's torchrun may be running beside this one
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", port]
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE")}

    def run(command: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)

    first = run([sys.executable, *common, "--output_dir", str(single)])
    second = run([*torchrun, *common, "--output_dir", str(parallel)])
    assert first.returncode == 1 and second.returncode == 1, second.stderr[-3000:]  # the broken film failed
    merged = json.loads((parallel / "run_summary.json").read_text())
    assert merged["complete"] and merged["shard_count"] == 2
    assert (parallel / "index.html").read_text().count("<tr data-quality=") == len(merged["files"])  # merged page
    assert _outcomes(parallel) == _outcomes(single)
    masks, reference = _masks(parallel), _masks(single)
    assert len(masks) == 11 and masks.keys() == reference.keys()
    for name in masks:  # other batches in each shard: equal within the promise
        assert_masks_agree(masks[name], reference[name], name)

    # A node that died: its shard's records are gone. The rerun redoes only those files.
    lost = [p for p in parallel.rglob("*.json") if p.name.endswith(".dcm.json")][:2]
    for record in lost:
        record.unlink()
    rerun = run([*torchrun, *common, "--output_dir", str(parallel)])
    assert rerun.returncode == 1, rerun.stderr[-3000:]
    counts = json.loads((parallel / "run_summary.json").read_text())["counts"]
    assert counts["done"] == len(lost) and counts["already_done"] == 11 - len(lost)
