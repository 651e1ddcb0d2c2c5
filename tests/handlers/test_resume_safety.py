"""Resuming training never runs what lies in the checkpoint folder, skips what does not fit, and prunes."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
import torch
from ignite.engine import Events
from log_lines import LogLines
from monai.networks.nets import UNet

from lungseg_monai.handlers import checkpoint_mismatch

COMMON = {"spatial_size": [64, 64], "val_interval": 1, "num_workers": 0}


class _Payload:
    """Pickles to a call of ``os.system``: what a planted checkpoint would run under ``weights_only=False``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.fixture
def warnings_logged():
    """Warnings of lungseg_monai's loggers (the bundle's logging.conf replaces the root handlers caplog uses)."""
    handler = LogLines(logging.WARNING)
    logging.getLogger("lungseg_monai").addHandler(handler)
    yield handler.lines
    logging.getLogger("lungseg_monai").removeHandler(handler)


def _train(make_workflow, output_dir: Path, num_epochs: int) -> list[int]:
    workflow = make_workflow("unet", "train.json", "train", output_dir=str(output_dir), num_epochs=num_epochs, **COMMON)
    epochs: list[int] = []
    workflow.trainer.add_event_handler(Events.EPOCH_COMPLETED, lambda e: epochs.append(e.state.epoch))
    workflow.run()
    return epochs


def _checkpoints(output_dir: Path) -> list[str]:
    return sorted(p.name for p in (output_dir / "models").glob("checkpoint_epoch=*"))


def test_a_planted_checkpoint_is_refused_unread(make_workflow, tmp_path, warnings_logged):
    marker = tmp_path / "payload-ran"
    (tmp_path / "models").mkdir()
    torch.save({"model": _Payload(marker)}, tmp_path / "models" / "checkpoint_epoch=999.pt")
    epochs = _train(make_workflow, tmp_path, num_epochs=1)
    assert not marker.exists(), "the planted checkpoint's payload ran"
    assert epochs == [1]  # started afresh
    warning = next(m for m in warnings_logged if "checkpoint_epoch=999.pt" in m)
    assert "refused unread (weights_only=True)" in warning
    assert _checkpoints(tmp_path) == ["checkpoint_epoch=1.pt", "checkpoint_epoch=999.pt.skipped"]


def test_another_bundles_checkpoint_is_skipped_with_its_name(make_workflow, tmp_path, warnings_logged):
    _train(make_workflow, tmp_path, num_epochs=1)
    unet_checkpoint = torch.load(tmp_path / "models" / "checkpoint_epoch=1.pt", weights_only=True)
    # A Pix2Pix training checkpoint: the generator under "model", but other optimiser and scheduler keys.
    pix2pix_like = {"model": unet_checkpoint["model"], "discriminator": {}, "g_optimizer": {}, "trainer": {}}
    torch.save(pix2pix_like, tmp_path / "models" / "checkpoint_epoch=7.pt")
    epochs = _train(make_workflow, tmp_path, num_epochs=3)
    assert epochs == [2, 3]  # resumed from epoch 1, the foreign epoch-7 checkpoint skipped
    warning = next(m for m in warnings_logged if "checkpoint_epoch=7.pt" in m)
    assert "does not fit this bundle" in warning and "'optimizer'" in warning


def test_checkpoints_do_not_pile_up_across_interrupted_runs(make_workflow, tmp_path):
    _train(make_workflow, tmp_path, num_epochs=2)
    assert _checkpoints(tmp_path) == ["checkpoint_epoch=1.pt", "checkpoint_epoch=2.pt"]
    assert _train(make_workflow, tmp_path, num_epochs=4) == [3, 4]  # as if killed after epoch 2 and restarted
    assert _checkpoints(tmp_path) == ["checkpoint_epoch=3.pt", "checkpoint_epoch=4.pt"]
    assert _train(make_workflow, tmp_path, num_epochs=5) == [5]
    assert _checkpoints(tmp_path) == ["checkpoint_epoch=4.pt", "checkpoint_epoch=5.pt"]


@pytest.mark.parametrize(
    "channels, expected",
    [((16, 32, 64, 128, 256, 512), None), ((8, 16, 32, 64, 128, 256), "size mismatch")],
)
def test_a_network_of_another_shape_does_not_fit(channels, expected):
    def unet(chs):
        return UNet(2, 1, 1, channels=chs, strides=(2, 2, 2, 2, 2), num_res_units=2, norm="batch")

    saved = {"model": unet(channels).state_dict()}
    mismatch = checkpoint_mismatch({"model": unet((16, 32, 64, 128, 256, 512))}, saved)
    assert mismatch is None if expected is None else expected in mismatch
