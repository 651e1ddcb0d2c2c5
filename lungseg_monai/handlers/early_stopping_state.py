"""Make an early stopper's patience count part of a training checkpoint."""

from __future__ import annotations

import logging
from typing import Any

from monai.handlers import EarlyStopHandler

__all__ = ["EarlyStoppingState"]

logger = logging.getLogger(__name__)


class EarlyStoppingState:
    """A ``state_dict``/``load_state_dict`` view of a MONAI ``EarlyStopHandler``'s count and best score.

    MONAI's handler keeps ignite's ``EarlyStopping`` (which can save both) out of reach of a checkpoint, so a
    resumed run used to start its patience afresh and could train up to ``patience`` checks longer than the same
    run left alone. Put this in the trainer's checkpoint ``save_dict`` beside the networks. A checkpoint saved when
    the patience had run out (the run stopped early) ends the resumed run before its first epoch: running the
    command of a finished run again trains nothing more.

    Args:
        stopper: the validation ``EarlyStopHandler``, its trainer set (``set_trainer``) before the run starts.

    """

    def __init__(self, stopper: EarlyStopHandler) -> None:
        self.stopper = stopper

    def _early_stopping(self) -> Any:
        if self.stopper._handler is None:  # noqa: SLF001 (MONAI exposes no accessor for the ignite handler)
            raise RuntimeError("EarlyStoppingState: the early stopper has no trainer yet (call set_trainer first)")
        return self.stopper._handler  # noqa: SLF001

    def state_dict(self) -> dict[str, Any]:
        """Return the checks without improvement so far and the best score (None before the first check)."""
        handler = self._early_stopping()
        return {"counter": int(handler.counter), "best_score": handler.best_score}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        handler = self._early_stopping()
        handler.counter = int(state["counter"])
        handler.best_score = None if state["best_score"] is None else float(state["best_score"])
        if handler.counter >= handler.patience and handler.trainer is not None:
            logger.info(
                "the checkpoint's run had already stopped early (%d checks without improvement, patience %d): "
                "nothing more to train (--resume False starts afresh)",
                handler.counter,
                handler.patience,
            )
            handler.trainer.terminate()
