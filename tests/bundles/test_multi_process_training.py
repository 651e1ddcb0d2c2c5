"""DDP training with torchrun on the CPU (gloo): 2 processes, both train, one set of checkpoints."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from free_ports import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("bundle, trainer", [("unet", "SupervisedTrainer"), ("pix2pix", "Pix2PixTrainer")])
def test_torchrun_two_cpu_processes(bundle, trainer, cxr_dir, tmp_path):
    configs = REPO / "bundles" / bundle / "configs"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
        "--master_addr=127.0.0.1", f"--master_port={free_port()}",
        "-m", "monai.bundle", "run", "training",
        "--config_file", f"['{configs / 'train.json'}','{configs / 'multi_gpu_train.json'}']",
        "--meta_file", str(configs / "metadata.json"), "--logging_file", str(configs / "logging.conf"),
        "--dataset_dir", str(cxr_dir), "--output_dir", str(tmp_path),
        "--num_epochs", "2", "--val_interval", "1", "--num_workers", "0", "--spatial_size", "[64,64]",
        "--train#dataset#data", "$@train#datalist[:8]", "--validate#dataset#data", "$@validate#datalist[:4]",
    ]  # fmt: skip
    if bundle == "pix2pix":
        command += ["--jitter_size", "[72,72]"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    completed = re.findall(rf"engine\.{trainer} - INFO - Epoch\[2\] Complete", log)
    assert len(completed) == 2, "both ranks must finish epoch 2"
    saved = sorted(p.name for p in (tmp_path / "models").iterdir())
    assert saved == ["checkpoint_epoch=1.pt", "checkpoint_epoch=2.pt", "model.pt"]
    state = torch.load(tmp_path / "models" / "model.pt", weights_only=True)
    assert not any(key.startswith("module.") for key in state)  # DDP wrapper not saved
