"""Real (short) training runs through the bundle configs, as a user runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from ignite.engine import Events

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_unet_short_real_training_lowers_the_loss(tmp_path, cxr_dir, make_workflow):
    workflow = make_workflow(
        "unet",
        "train.json",
        "train",
        dataset_dir=str(cxr_dir),
        output_dir=str(tmp_path),
        spatial_size=[96, 96],
        num_epochs=6,
        val_interval=3,
        num_workers=0,
        batch_size=8,
        **{
            "train#dataset#cache_rate": 0.25,
            "train#dataset#data": "$@train#datalist[:16]",
            "validate#dataset#data": "$@validate#datalist[:4]",
        },
    )
    losses: list[float] = []
    trainer = workflow.trainer
    trainer.add_event_handler(Events.EPOCH_COMPLETED, lambda e: losses.append(float(e.state.output[0]["loss"])))
    workflow.run()
    assert len(losses) == 6
    assert sum(losses[-2:]) / 2 < sum(losses[:2]) / 2
    assert (tmp_path / "models" / "model.pt").is_file()
    assert (tmp_path / "models" / "checkpoint_epoch=6.pt").is_file()


def test_unet_training_resumes_after_a_kill(tmp_path, make_workflow):
    common = {"output_dir": str(tmp_path), "spatial_size": [64, 64], "val_interval": 1, "num_workers": 0}
    make_workflow("unet", "train.json", "train", num_epochs=2, **common).run()
    checkpoint = torch.load(tmp_path / "models" / "checkpoint_epoch=2.pt", weights_only=True)
    (tmp_path / "models" / "checkpoint_epoch=2.pt").write_bytes(b"truncated by a kill")
    epochs: list[int] = []
    workflow = make_workflow("unet", "train.json", "train", num_epochs=3, **common)
    workflow.trainer.add_event_handler(Events.EPOCH_COMPLETED, lambda e: epochs.append(e.state.epoch))
    workflow.run()
    # the truncated newest checkpoint is skipped; training resumes after epoch 1
    assert epochs == [2, 3]
    assert {"model", "optimizer", "lr_scheduler", "trainer", "best_metric"} <= set(checkpoint)


def test_pix2pix_card_command_runs_from_repo_root(tmp_path):
    command = [
        sys.executable, "-m", "monai.bundle", "run", "training",
        "--config_file", "bundles/pix2pix/train.json",
        "--num_epochs", "2", "--val_interval", "1", "--num_workers", "0",
        "--output_dir", str(tmp_path),
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert result.returncode == 0, result.stderr[-3000:]
    console = result.stdout + result.stderr
    assert "Cannot find the metadata" not in console
    # It says what it trains on, where checkpoints go, that one image trains nothing useful; a progress bar runs.
    assert "training lungseg_pix2pix on 1 training and 1 validation images of" in console
    assert f"checkpoints go to {tmp_path / 'models'}" in console
    assert "only 1 training image(s)" in console
    assert "Epoch [2/2]" in console
    checkpoint = torch.load(tmp_path / "models" / "checkpoint_epoch=2.pt", weights_only=True)
    assert {"model", "discriminator", "g_optimizer", "d_optimizer", "trainer"} <= set(checkpoint)
    assert (tmp_path / "models" / "model.pt").is_file()


@pytest.mark.parametrize("bundle", ["unet", "pix2pix"])
def test_a_set_with_lungs_only_trains_and_evaluates_without_a_heart_channel(bundle, tmp_path, cxr_dir, make_workflow):
    """A Shenzhen-layout set (one merged lung mask, no heart): the heart channel is unknown, not "no heart"."""
    import csv
    import json

    import numpy as np
    from PIL import Image

    from lungseg_monai.data.manifest import build_manifest

    root = tmp_path / "ChinaSet"
    (root / "CXR_png").mkdir(parents=True)
    (root / "mask").mkdir()
    manifest = json.loads((REPO / "data_manifests" / "cxr-lung-lr.json").read_text())
    for index, case in enumerate(manifest["validation"][:4]):
        stem = f"CHNCXR_{index:04d}_0"
        Image.open(cxr_dir / case["image"]).convert("L").save(root / "CXR_png" / f"{stem}.png")
        lungs = [np.asarray(Image.open(cxr_dir / case[k]).convert("L")) > 127 for k in ("right_mask", "left_mask")]
        Image.fromarray(((lungs[0] | lungs[1]) * 255).astype(np.uint8)).save(root / "mask" / f"{stem}_mask.png")
    datalist, _ = build_manifest(root, fractions=(0.5, 0.25, 0.25))
    assert datalist["lung_convention"] == "visible"
    (root / "datalist.json").write_text(json.dumps(datalist))
    losses: list[float] = []
    workflow = make_workflow(
        bundle, "train.json", "train", dataset_dir=str(root), output_dir=str(tmp_path / "run"), spatial_size=[64, 64],
        num_epochs=2, val_interval=1, num_workers=0, batch_size=2, **{"train#dataset#cache_rate": 0.0},
        opacity_prob=1.0,  # every film painted: RandOpacityd with an unknown heart channel, in both bundles
    )  # fmt: skip
    workflow.trainer.add_event_handler(
        Events.EPOCH_COMPLETED, lambda e: losses.append(float(e.state.output[0]["loss"]))
    )
    workflow.run()
    assert len(losses) == 2 and all(np.isfinite(losses))  # an unknown channel would give NaN or -1 targets
    report = tmp_path / "report"
    make_workflow(
        bundle, "evaluate.json", "infer", dataset_dir=str(root), output_dir=str(report),
        **{"validate#dataloader#num_workers": 0},
    ).run()  # fmt: skip
    with open(report / "per_case.csv", newline="") as handle:
        columns = next(csv.reader(handle))
    assert "dice" in columns and "right_lung_dice" in columns
    assert not any(c.startswith(("cardiomediastinum", "visible_lungs", "ctr")) for c in columns)
    summary = json.loads((report / "summary.json").read_text())
    assert summary["reference_lung_convention"] == "visible"  # the predicted lungs are compared as visible fields


@pytest.mark.parametrize("bundle", ["unet", "pix2pix"])
def test_ctrl_c_ends_training_with_one_line_and_the_same_command_resumes(bundle, tmp_path):
    command = [
        sys.executable, "-m", "monai.bundle", "run", "training",
        "--config_file", f"bundles/{bundle}/configs/train.json",
        "--meta_file", f"bundles/{bundle}/configs/metadata.json",
        "--spatial_size", "[64, 64]", "--val_interval", "1", "--output_dir", str(tmp_path),
    ]  # fmt: skip
    models = tmp_path / "models"
    process = subprocess.Popen([*command, "--num_epochs", "1000"], cwd=REPO, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    deadline = time.monotonic() + 300
    while not list(models.glob("checkpoint_epoch=*.pt")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the DataLoader workers too
    console, _ = process.communicate(timeout=120)
    assert process.returncode == 130, console[-3000:]
    assert "Traceback" not in console, console[-3000:]
    assert "training interrupted in epoch" in console and f"the checkpoints saved so far are in {models}" in console
    # ignite's own lines that mislead: an error line before the interrupt's, a first start called a resumption
    assert "terminating due to exception" not in console and "resuming from iteration 0" not in console
    assert "Engine run starting: up to 1000 epochs" in console, console[:3000]
    saved = max(int(p.stem.split("=")[1]) for p in models.glob("checkpoint_epoch=*.pt"))

    rerun = subprocess.run([*command, "--num_epochs", str(saved + 1)], cwd=REPO, capture_output=True, text=True,
                           timeout=600)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert (models / f"checkpoint_epoch={saved + 1}.pt").is_file()
    assert f"Epoch[{saved + 1}] Complete" in rerun.stdout + rerun.stderr
    assert "Epoch[1] Complete" not in rerun.stdout + rerun.stderr  # resumed, not started over
