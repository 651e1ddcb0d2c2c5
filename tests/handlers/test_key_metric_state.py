"""A resumed run keeps its best score: the best model is not overwritten by a worse one."""

from __future__ import annotations

from pathlib import Path

import torch
from ignite.engine import Engine, Events
from monai.handlers import CheckpointSaver

from lungseg_monai.handlers import KeyMetricState


def _evaluator(scores: list[float]) -> Engine:
    def step(engine: Engine, batch: int) -> None:
        return None

    engine = Engine(step)

    @engine.on(Events.EPOCH_COMPLETED)
    def _score(engine: Engine) -> None:
        engine.state.metrics = {"val_mean_dice": scores[engine.state.epoch - 1]}

    return engine


def _run(tmp_path: Path, scores: list[float], resumed_state: dict | None) -> tuple[Engine, float | None]:
    evaluator = _evaluator(scores)
    network = torch.nn.Linear(1, 1)
    saver = CheckpointSaver(
        str(tmp_path), {"model": network}, save_key_metric=True, key_metric_name="val_mean_dice",
        key_metric_filename="model.pt",
    )  # fmt: skip
    # the saver runs after the scoring handler above, as MONAI's evaluators compute metrics before handlers
    saver.attach(evaluator)
    state = KeyMetricState(evaluator, saver, filename="model.pt")
    if resumed_state is not None:
        evaluator.state.epoch = 0
        state.load_state_dict(resumed_state)
    with torch.no_grad():
        network.weight.fill_(len(scores))
    evaluator.run([0], max_epochs=len(scores))
    saved = tmp_path / "model.pt"
    weight = float(torch.load(saved, weights_only=True)["weight"]) if saved.exists() else None
    return evaluator, weight


def test_a_resumed_run_does_not_overwrite_the_best_model_with_a_worse_one(tmp_path):
    _run(tmp_path, [0.9], resumed_state=None)  # first run: best 0.9, model.pt holds weight 1
    assert float(torch.load(tmp_path / "model.pt", weights_only=True)["weight"]) == 1.0
    _, weight = _run(tmp_path, [0.5, 0.6], resumed_state={"best_metric": 0.9, "best_metric_epoch": 1})
    assert weight == 1.0, "a worse score overwrote the best model"
    _, weight = _run(tmp_path, [0.5, 0.95, 0.2], resumed_state={"best_metric": 0.9, "best_metric_epoch": 1})
    assert weight == 3.0, "a better score must replace the best model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


def test_old_checkpoints_with_a_saver_entry_still_load(tmp_path):
    evaluator = _evaluator([0.1])
    state = KeyMetricState(evaluator, None)
    state.load_state_dict({"best_metric": 0.7, "best_metric_epoch": 4, "saver": {"_saved": [(0.7, "x.pt")]}})
    assert state.state_dict() == {"best_metric": 0.7, "best_metric_epoch": 4}
