"""An interrupt ends a training or evaluation engine's run with exit code 130 and one line; any other error is raised
on, never dropped."""

from __future__ import annotations

import logging

import pytest
from ignite.engine import Engine

from lungseg_monai.handlers import EvaluationInterrupted, TrainingInterrupted


def _engine_raising(error: BaseException, handler=None, after: int = 0) -> Engine:
    def step(engine, batch):
        if engine.state.iteration > after:
            raise error

    engine = Engine(step)
    handler = handler or TrainingInterrupted("runs/x/models")
    handler.attach(engine)  # the only EXCEPTION_RAISED handler, as on ranks > 0
    return engine


def test_an_interrupt_exits_130_with_one_line(caplog):
    with caplog.at_level(logging.WARNING), pytest.raises(SystemExit) as exit_info:
        _engine_raising(KeyboardInterrupt()).run([0, 1], max_epochs=3)
    assert exit_info.value.code == 130
    lines = [r.getMessage() for r in caplog.records if r.name == "lungseg_monai.handlers.training_interrupt"]
    assert lines == [
        "training interrupted in epoch 1; the checkpoints saved so far are in runs/x/models: "
        "run the same command again to resume from the newest"
    ]


def test_an_interrupted_evaluation_says_how_far_it_got(caplog):
    engine = _engine_raising(KeyboardInterrupt(), EvaluationInterrupted("eval/unet/test"), after=2)
    with caplog.at_level(logging.WARNING), pytest.raises(SystemExit) as exit_info:
        engine.run([0, 1, 2, 3, 4])
    assert exit_info.value.code == 130
    lines = [r.getMessage() for r in caplog.records if r.name == "lungseg_monai.handlers.training_interrupt"]
    assert lines == [
        "evaluation interrupted (3 of 5 batches read); no report was written to eval/unet/test: "
        "run the same command again"
    ]


@pytest.mark.parametrize("handler", [TrainingInterrupted("runs/x/models"), EvaluationInterrupted("eval/x")])
@pytest.mark.parametrize("error", [ValueError("bad batch"), SystemExit(130)])
def test_other_errors_are_raised_on(error, handler):
    with pytest.raises(type(error)):
        _engine_raising(error, handler).run([0, 1], max_epochs=3)
