"""End a training run that Ctrl-C interrupts with one line and exit code 130, instead of tracebacks."""

from __future__ import annotations

import logging

from ignite.engine import Engine, Events

__all__ = ["TrainingInterrupted"]

logger = logging.getLogger(__name__)

#: The exit code of an interrupted run: 128 + SIGINT, as ``inference.exit_codes.EXIT_INTERRUPTED`` gives folder runs
#: (that layer sits above this one).
_EXIT_INTERRUPTED = 130


class TrainingInterrupted:
    """Turn a ``KeyboardInterrupt`` in the trainer or its validator into one log line and ``SystemExit(130)``.

    Without it, MONAI's ``StatsHandler`` logs the interrupt as an exception with its traceback and Python prints the
    traceback again. The checkpoints are written atomically at each epoch's end, so an interrupted run loses at most
    the epoch in progress, and the same command resumes from the newest checkpoint (``ResumeFromLatestCheckpoint``).
    Other errors are raised on as they are (Python prints their traceback once): an ``EXCEPTION_RAISED`` handler that
    returns would make ignite drop the error, as on the ranks of a multi-GPU run that have no ``StatsHandler``.

    Attach it before every other handler of an engine (first in the ``train#handlers`` and ``validate#handlers``
    lists): the engine calls its ``EXCEPTION_RAISED`` handlers in order, and ``StatsHandler``'s re-raises.

    Args:
        ckpt_dir: where the run's checkpoints are, for the message.

    """

    def __init__(self, ckpt_dir: str) -> None:
        self.ckpt_dir = ckpt_dir

    def attach(self, engine: Engine) -> None:
        """Register on ``engine``'s ``EXCEPTION_RAISED`` event."""
        engine.add_event_handler(Events.EXCEPTION_RAISED, self)

    def __call__(self, engine: Engine, err: BaseException) -> None:
        """Exit with code 130 on an interrupt (once, from the engine that first sees it)."""
        if not isinstance(err, KeyboardInterrupt):  # raised here: with no other handler ignite would swallow it
            raise err  # (a SystemExit is a validator's interrupt, already reported)
        logger.warning(
            "training interrupted in epoch %d; the checkpoints saved so far are in %s: run the same command again "
            "to resume from the newest",
            engine.state.epoch,
            self.ckpt_dir,
        )
        raise SystemExit(_EXIT_INTERRUPTED) from None
