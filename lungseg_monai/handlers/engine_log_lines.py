"""Two of ignite's engine log lines that mislead in a bundle run: corrected (a start) or left out (an interrupt).

- ``Engine run resuming from iteration 0, epoch 0 until N epochs``: MONAI's workflows create the engine's state
  before ``run``, so ignite calls every start a resumption, before any checkpoint is loaded. Said instead:
  ``Engine run starting: up to N epochs``; a real resumption is logged by
  :class:`~lungseg_monai.handlers.ResumeFromLatestCheckpoint` once its checkpoint is loaded.
- ``ERROR - Engine run is terminating due to exception: signal SIGINT`` (empty after a bare Ctrl-C): the run's
  interrupt handler (:mod:`lungseg_monai.handlers.training_interrupt`) says in one line what was interrupted and
  what to do; an error line before it says nothing more. Other exceptions keep ignite's line.
"""

from __future__ import annotations

import logging
import re

from ignite.engine import Engine

__all__ = ["EngineLogLines", "correct_engine_log_lines"]

_FIRST_START = re.compile(r"Engine run resuming from iteration 0, epoch 0 until (\d+) epochs")
_INTERRUPT = re.compile(r"(Engine|Current) run is terminating due to exception: (signal SIG[A-Z]+)?$")


class EngineLogLines(logging.Filter):
    """A logging filter for an ignite engine's logger: the two lines above, corrected or left out."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Return False for an interrupt's error line; rewrite a first start's line."""
        message = record.getMessage()
        if record.levelno >= logging.ERROR and _INTERRUPT.match(message):
            return False
        start = _FIRST_START.fullmatch(message)
        if start is not None:
            record.msg, record.args = f"Engine run starting: up to {start.group(1)} epochs", None
        return True


def correct_engine_log_lines(engine: Engine) -> None:
    """Add :class:`EngineLogLines` to ``engine``'s logger (once)."""
    if not any(isinstance(existing, EngineLogLines) for existing in engine.logger.filters):
        engine.logger.addFilter(EngineLogLines())
