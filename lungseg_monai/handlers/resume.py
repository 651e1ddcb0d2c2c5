"""Resume a killed training run from the newest checkpoint that still loads."""

from __future__ import annotations

import logging
import pickle
import re
from pathlib import Path
from typing import Any

import torch
from ignite.engine import Engine, Events
from ignite.handlers import Checkpoint

__all__ = ["ResumeFromLatestCheckpoint", "latest_checkpoints"]

logger = logging.getLogger(__name__)
_NUMBER = re.compile(r"=(\d+)\.pt$")


def latest_checkpoints(checkpoint_dir: str | Path, pattern: str = "checkpoint_epoch=*.pt") -> list[Path]:
    """Return the checkpoints in ``checkpoint_dir`` matching ``pattern``, newest (highest number) first."""
    paths = Path(checkpoint_dir).glob(pattern)
    numbered = [(int(m.group(1)), p) for p in paths if (m := _NUMBER.search(p.name))]
    return [p for _, p in sorted(numbered, reverse=True)]


class ResumeFromLatestCheckpoint:
    """On ``STARTED``, load the newest interval checkpoint into ``load_dict`` (no-op on a fresh run).

    A checkpoint that fails to load (a run killed while writing it) is skipped with a warning and the next
    older one is tried, so keep ``n_saved >= 2`` on the interval ``CheckpointSaver``.

    Args:
        checkpoint_dir: where the trainer's interval ``CheckpointSaver`` writes.
        load_dict: the objects to restore, the same dict the saver's ``save_dict`` holds.
        enabled: False to always start fresh.

    """

    def __init__(self, checkpoint_dir: str, load_dict: dict[str, Any], enabled: bool = True) -> None:
        self.checkpoint_dir = checkpoint_dir
        self.load_dict = load_dict
        self.enabled = enabled
        self.loaded_from: Path | None = None

    def attach(self, engine: Engine) -> None:
        """Register on the trainer before the first epoch."""
        engine.add_event_handler(Events.STARTED, self)

    def __call__(self, engine: Engine) -> None:
        """Load the newest loadable checkpoint, keeping the configured ``max_epochs``."""
        if not self.enabled:
            return
        for path in latest_checkpoints(self.checkpoint_dir):
            try:
                checkpoint = torch.load(path, map_location="cpu", weights_only=False)
            except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError) as err:
                logger.warning("skipping unreadable checkpoint %s: %s", path, err)
                continue
            max_epochs = engine.state.max_epochs
            Checkpoint.load_objects(to_load=self.load_dict, checkpoint=checkpoint)
            engine.state.max_epochs = max_epochs
            self.loaded_from = path
            logger.info("resumed from %s at epoch %d", path, engine.state.epoch)
            return
