"""Keep a training folder to a fixed number of interval checkpoints, across interrupted and resumed runs."""

from __future__ import annotations

import logging
from pathlib import Path

import ignite.distributed as idist
from ignite.engine import Engine, Events

from lungseg_monai.handlers.atomic_checkpoints import leftover_temporary_checkpoints
from lungseg_monai.handlers.resume import latest_checkpoints

__all__ = ["PruneCheckpoints"]

logger = logging.getLogger(__name__)


class PruneCheckpoints:
    """After each epoch, delete all but the ``n_saved`` newest ``checkpoint_epoch=N.pt`` files in ``checkpoint_dir``.

    MONAI's ``CheckpointSaver`` counts ``n_saved`` within one run only, so every interrupted run would leave its
    last checkpoints behind. Attach this after the saver, so that it sees the file the saver just wrote. It also
    deletes the temporary files of saves that a kill interrupted (:class:`AtomicCheckpointSaver`); at the end of an
    epoch no save of this run is in progress. Only rank 0 deletes (the ranks of a DDP run share the folder).

    Args:
        checkpoint_dir: the interval ``CheckpointSaver``'s ``save_dir``.
        n_saved: how many checkpoints to keep (the saver's ``n_saved``).

    """

    def __init__(self, checkpoint_dir: str, n_saved: int) -> None:
        if n_saved < 1:
            raise ValueError(f"n_saved must be at least 1, got {n_saved}")
        self.checkpoint_dir = checkpoint_dir
        self.n_saved = n_saved

    def attach(self, engine: Engine) -> None:
        """Register at the end of every epoch."""
        engine.add_event_handler(Events.EPOCH_COMPLETED, self)

    def __call__(self, engine: Engine | None = None) -> list[Path]:
        """Delete the surplus checkpoints; returns what was deleted."""
        if idist.get_rank() != 0:
            return []
        surplus = latest_checkpoints(self.checkpoint_dir)[self.n_saved :]
        for path in surplus:
            path.unlink(missing_ok=True)
            logger.info("removed old checkpoint %s (keeping the newest %d)", path, self.n_saved)
        leftovers = leftover_temporary_checkpoints(self.checkpoint_dir)
        for path in leftovers:
            path.unlink(missing_ok=True)
            logger.info("removed %s, the temporary file of a save that was killed", path)
        return surplus + leftovers
