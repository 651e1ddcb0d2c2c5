"""Make an evaluator's best-metric record part of a training checkpoint."""

from __future__ import annotations

from typing import Any

from ignite.engine import Engine
from monai.handlers import CheckpointSaver

__all__ = ["KeyMetricState"]


class KeyMetricState:
    """A ``state_dict``/``load_state_dict`` view of the best validation metric so far.

    Put it in the trainer's checkpoint ``save_dict`` so that a resumed run neither forgets its best score nor
    overwrites the best model with a worse one.

    Args:
        evaluator: the validation engine (a MONAI ``Workflow``) whose ``state.best_metric`` is tracked.
        saver: the evaluator's key-metric ``CheckpointSaver``, whose tracking list is restored too.

    """

    def __init__(self, evaluator: Engine, saver: CheckpointSaver | None = None) -> None:
        self.evaluator = evaluator
        self.saver = saver

    def state_dict(self) -> dict[str, Any]:
        """Return the best metric, its epoch and the saver's tracking list."""
        state = {
            "best_metric": getattr(self.evaluator.state, "best_metric", -1),
            "best_metric_epoch": getattr(self.evaluator.state, "best_metric_epoch", -1),
        }
        # MONAI keeps the key-metric Checkpoint private; its state is what stops a worse overwrite.
        checkpoint = getattr(self.saver, "_key_metric_checkpoint", None)
        if checkpoint is not None:
            state["saver"] = checkpoint.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.evaluator.state.best_metric = state["best_metric"]
        self.evaluator.state.best_metric_epoch = state["best_metric_epoch"]
        if self.saver is not None and "saver" in state:
            self.saver.load_state_dict(state["saver"])
