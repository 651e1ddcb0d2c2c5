"""A save that an interrupt cuts short leaves the previous checkpoint and model.pt whole, and no temporary file."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from ignite.engine import Engine, Events

from lungseg_monai.handlers import AtomicCheckpointSaver, PruneCheckpoints


def _interrupted_save(checkpoint, target, **kwargs):
    """``torch.save`` killed half-way: some bytes reach the file, then the interrupt."""
    if isinstance(target, (str, Path)):  # an in-place save, as MONAI's own saver does
        Path(target).write_bytes(b"PK\x03\x04 half a checkpoint")
    else:
        target.write(b"PK\x03\x04 half a checkpoint")
    raise KeyboardInterrupt


def test_an_interrupted_save_keeps_the_previous_files_whole(tmp_path, monkeypatch):
    network = torch.nn.Linear(2, 2)
    saver = AtomicCheckpointSaver(
        save_dir=str(tmp_path),
        save_dict={"model": network, "optimizer": torch.optim.SGD(network.parameters(), lr=0.1)},
        save_key_metric=True,
        key_metric_name="score",
        key_metric_filename="model.pt",
        save_interval=1,
        n_saved=3,
        epoch_level=True,
    )
    engine = Engine(lambda engine, batch: None)

    @engine.on(Events.EPOCH_COMPLETED)
    def improve(engine):  # a better score each epoch: model.pt is saved at every epoch's end, as the interval file
        engine.state.metrics["score"] = float(engine.state.epoch)
        torch.nn.init.constant_(network.weight, float(engine.state.epoch))

    saver.attach(engine)
    interrupt_next_saves = lambda: monkeypatch.setattr(torch, "save", _interrupted_save)  # noqa: E731
    engine.add_event_handler(Events.EPOCH_STARTED(once=2), interrupt_next_saves)
    with pytest.raises(KeyboardInterrupt):
        engine.run([0], max_epochs=2)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint_epoch=1.pt", "model.pt"]  # no temporary file
    monkeypatch.undo()
    for name in ("checkpoint_epoch=1.pt", "model.pt"):
        weights = torch.load(tmp_path / name, weights_only=True)["model"]["weight"]
        assert torch.equal(weights, torch.ones(2, 2)), name  # epoch 1's weights, whole


def test_pruning_removes_the_temporary_files_of_killed_saves(tmp_path):
    for epoch in (1, 2, 3):
        (tmp_path / f"checkpoint_epoch={epoch}.pt").write_bytes(b"checkpoint")
    (tmp_path / "tmpa1b2_c3d").write_bytes(b"half a checkpoint, the save was killed")
    (tmp_path / "tmp_notes.txt").write_text("not a temporary checkpoint")
    removed = PruneCheckpoints(str(tmp_path), n_saved=2)()
    assert sorted(p.name for p in removed) == ["checkpoint_epoch=1.pt", "tmpa1b2_c3d"]
    kept = ["checkpoint_epoch=2.pt", "checkpoint_epoch=3.pt", "tmp_notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == kept
