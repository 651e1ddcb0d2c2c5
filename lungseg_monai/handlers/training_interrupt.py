"""End a training or evaluation run that Ctrl-C interrupts with one line and exit code 130, instead of tracebacks."""

from __future__ import annotations

import logging

from ignite.engine import Engine, Events

from lungseg_monai.handlers.engine_log_lines import correct_engine_log_lines
from lungseg_monai.run_errors import EXIT_INTERRUPTED

__all__ = ["EvaluationInterrupted", "TrainingInterrupted"]

logger = logging.getLogger(__name__)


class _InterruptedRun:
    """Turn a ``KeyboardInterrupt`` in an engine into one log line (:meth:`describe`) and ``SystemExit(130)``.

    Without it, MONAI's ``StatsHandler`` logs the interrupt as an exception with its traceback and Python prints the
    traceback again. Other errors are raised on as they are (Python prints their traceback once): an
    ``EXCEPTION_RAISED`` handler that returns would make ignite drop the error, as on the ranks of a multi-GPU run
    that have no ``StatsHandler``.

    Attach it before every other handler of an engine (first in its handlers list): the engine calls its
    ``EXCEPTION_RAISED`` handlers in order, and ``StatsHandler``'s re-raises.
    """

    def attach(self, engine: Engine) -> None:
        """Register on ``engine``'s ``EXCEPTION_RAISED`` event; correct its misleading log lines.

        ignite's error line for the interrupt is left out (this handler's line replaces it), and a first start is
        no longer called a resumption (:mod:`lungseg_monai.handlers.engine_log_lines`).
        """
        engine.add_event_handler(Events.EXCEPTION_RAISED, self)
        correct_engine_log_lines(engine)

    def describe(self, engine: Engine) -> str:
        """Return the line to log when ``engine`` is interrupted."""
        raise NotImplementedError

    def __call__(self, engine: Engine, err: BaseException) -> None:
        """Exit with code 130 on an interrupt (once, from the engine that first sees it)."""
        if not isinstance(err, KeyboardInterrupt):  # raised here: with no other handler ignite would swallow it
            raise err  # (a SystemExit is a validator's interrupt, already reported)
        logger.warning(self.describe(engine))
        raise SystemExit(EXIT_INTERRUPTED) from None


class TrainingInterrupted(_InterruptedRun):
    """The interrupt handler of the trainer and its validator (first in ``train#handlers`` and ``validate#handlers``).

    The checkpoints are written atomically at each epoch's end, so an interrupted run loses at most the epoch in
    progress, and the same command resumes from the newest checkpoint (``ResumeFromLatestCheckpoint``).

    Args:
        ckpt_dir: where the run's checkpoints are, for the message.

    """

    def __init__(self, ckpt_dir: str) -> None:
        self.ckpt_dir = ckpt_dir

    def describe(self, engine: Engine) -> str:
        """Say the epoch and where the checkpoints are."""
        return (
            f"training interrupted in epoch {engine.state.epoch}; the checkpoints saved so far are in "
            f"{self.ckpt_dir}: run the same command again to resume from the newest"
        )


class EvaluationInterrupted(_InterruptedRun):
    """The interrupt handler of ``evaluate.json``'s evaluator, whose report is written only at its end.

    Args:
        output_dir: where the report goes, for the message.

    """

    def __init__(self, output_dir: str) -> None:
        self.output_dir = output_dir

    def describe(self, engine: Engine) -> str:
        """Say how far the evaluation got and that it wrote no report."""
        return (
            f"evaluation interrupted ({engine.state.iteration} of {engine.state.epoch_length} batches read); no report "
            f"was written to {self.output_dir}: run the same command again"
        )
