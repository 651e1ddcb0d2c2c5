"""Make an evaluator's best-metric record part of a training checkpoint."""

from __future__ import annotations

from typing import Any

from ignite.engine import Engine
from monai.handlers import CheckpointSaver

__all__ = ["KeyMetricState"]


class KeyMetricState:
    """A ``state_dict``/``load_state_dict`` view of the best validation metric so far.

    Put it in the trainer's checkpoint ``save_dict`` so that a resumed run neither forgets its best score nor
    overwrites the best model with a worse one: on loading, the best-model saver is told, through its public
    ``load_state_dict`` (ignite's ``Checkpoint`` state: the saved items as ``(score, filename)``), that a model
    of that score is saved already.

    Args:
        evaluator: the validation engine (a MONAI ``Workflow``) whose ``state.best_metric`` is tracked.
        saver: the evaluator's key-metric ``CheckpointSaver``.
        filename: the saver's ``key_metric_filename`` (the best model's fixed file name).

    """

    def __init__(self, evaluator: Engine, saver: CheckpointSaver | None = None, filename: str = "model.pt") -> None:
        self.evaluator = evaluator
        self.saver = saver
        self.filename = filename

    def state_dict(self) -> dict[str, Any]:
        """Return the best metric and its epoch."""
        return {
            "best_metric": getattr(self.evaluator.state, "best_metric", -1),
            "best_metric_epoch": getattr(self.evaluator.state, "best_metric_epoch", -1),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (checkpoints of 0.3.1 and earlier carry an unused ``saver``)."""
        self.evaluator.state.best_metric = state["best_metric"]
        self.evaluator.state.best_metric_epoch = state["best_metric_epoch"]
        if self.saver is not None and state["best_metric_epoch"] > 0:
            self.saver.load_state_dict({"_saved": [(state["best_metric"], self.filename)]})
