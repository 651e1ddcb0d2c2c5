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


def _train(make_workflow, output_dir: Path, num_epochs: int, bundle: str = "unet", with_workflow: bool = False):
    workflow = make_workflow(bundle, "train.json", "train", output_dir=str(output_dir), num_epochs=num_epochs, **COMMON)
    epochs: list[int] = []
    workflow.trainer.add_event_handler(Events.EPOCH_COMPLETED, lambda e: epochs.append(e.state.epoch))
    workflow.run()
    return (epochs, workflow) if with_workflow else epochs


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


@pytest.mark.parametrize("bundle", ["unet", "pix2pix"])
def test_a_resumed_run_keeps_its_early_stopping_count(bundle, make_workflow, tmp_path):
    # Before 0.8.4 the patience count started afresh on every resume: a run killed now and then trained up to
    # `early_stop_patience` checks longer than the same run left alone.
    _train(make_workflow, tmp_path, num_epochs=2, bundle=bundle)
    saved = torch.load(tmp_path / "models" / "checkpoint_epoch=2.pt", weights_only=True)
    assert saved["early_stopping"]["best_score"] == pytest.approx(saved["best_metric"]["best_metric"])
    assert 0 <= saved["early_stopping"]["counter"] <= 1
    epochs, workflow = _train(make_workflow, tmp_path, num_epochs=2, bundle=bundle, with_workflow=True)
    assert epochs == []  # nothing left to train: only the checkpoint was loaded
    stopper = workflow.parser.get_parsed_content("validate#early_stopper")._handler
    assert (stopper.counter, stopper.best_score) == (
        saved["early_stopping"]["counter"],
        pytest.approx(saved["early_stopping"]["best_score"]),
    )


@pytest.mark.parametrize("bundle", ["unet", "pix2pix"])
def test_a_run_that_stopped_early_trains_nothing_more_when_resumed(bundle, make_workflow, tmp_path):
    # Before 0.8.6 the command of a run that early stopping had ended trained one more validation interval.
    _train(make_workflow, tmp_path, num_epochs=1, bundle=bundle)
    path = tmp_path / "models" / "checkpoint_epoch=1.pt"
    saved = torch.load(path, weights_only=True)
    saved["early_stopping"]["counter"] = 20  # the bundles' early_stop_patience: the stop of a finished run
    torch.save(saved, path)
    epochs, workflow = _train(make_workflow, tmp_path, num_epochs=5, bundle=bundle, with_workflow=True)
    assert epochs == []
    assert workflow.trainer.state.epoch == 1
    assert _checkpoints(tmp_path) == ["checkpoint_epoch=1.pt"]


def test_a_checkpoint_without_early_stopping_state_still_resumes(make_workflow, tmp_path, warnings_logged):
    _train(make_workflow, tmp_path, num_epochs=1)
    path = tmp_path / "models" / "checkpoint_epoch=1.pt"
    older = torch.load(path, weights_only=True)
    del older["early_stopping"]  # as checkpoints before 0.8.4 were saved
    torch.save(older, path)
    assert _train(make_workflow, tmp_path, num_epochs=2) == [2]  # resumed, not skipped and restarted
    assert not [m for m in warnings_logged if "checkpoint_epoch=1.pt" in m]
