"""ignite's misleading engine lines on a real ignite Engine: a first start and an interrupt."""

from __future__ import annotations

import logging

import pytest
from ignite.engine import Engine, Events

from lungseg_monai.handlers import TrainingInterrupted


def _engine_lines(caplog, interrupt: BaseException | None, error: Exception | None = None) -> list[str]:
    engine = Engine(lambda engine, batch: None)
    engine.state.max_epochs = 3  # as MONAI's workflows set it before run()
    TrainingInterrupted("/models").attach(engine)
    if interrupt is not None or error is not None:

        @engine.on(Events.ITERATION_COMPLETED(once=2))
        def _stop(_: Engine) -> None:
            raise interrupt or error

    with caplog.at_level(logging.INFO):
        try:
            engine.run([0, 1, 2], max_epochs=3)
        except (SystemExit, RuntimeError):
            pass
    return [r.getMessage() for r in caplog.records if r.name.startswith("ignite.engine")]


def test_a_first_start_is_not_called_a_resumption(caplog):
    lines = _engine_lines(caplog, None)
    assert "Engine run starting: up to 3 epochs" in lines
    assert not any("resuming" in line for line in lines)


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt("signal SIGINT"), KeyboardInterrupt()])
def test_an_interrupt_leaves_out_ignites_error_line(caplog, interrupt):
    lines = _engine_lines(caplog, interrupt)
    assert not any("terminating due to exception" in line for line in lines)
    assert any("training interrupted in epoch 1" in r.getMessage() for r in caplog.records)


def test_other_errors_keep_ignites_error_line(caplog):
    lines = _engine_lines(caplog, None, RuntimeError("disk full"))
    assert "Engine run is terminating due to exception: disk full" in lines
