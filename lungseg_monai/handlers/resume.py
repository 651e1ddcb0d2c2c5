"""Resume a killed training run from the newest checkpoint that still loads and fits the bundle."""

from __future__ import annotations

import copy
import logging
import pickle
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import ignite.distributed as idist
import torch
from ignite.engine import Engine, Events
from ignite.handlers import Checkpoint
from torch.nn import DataParallel
from torch.nn.parallel import DistributedDataParallel

from lungseg_monai.data.errors import one_line

__all__ = ["ResumeFromLatestCheckpoint", "latest_checkpoints", "checkpoint_mismatch"]

logger = logging.getLogger(__name__)
_NUMBER = re.compile(r"=(\d+)\.pt$")


def latest_checkpoints(checkpoint_dir: str | Path, pattern: str = "checkpoint_epoch=*.pt") -> list[Path]:
    """Return the checkpoints in ``checkpoint_dir`` matching ``pattern``, newest (highest number) first."""
    paths = Path(checkpoint_dir).glob(pattern)
    numbered = [(int(m.group(1)), p) for p in paths if (m := _NUMBER.search(p.name))]
    return [p for _, p in sorted(numbered, reverse=True)]


def _unreadable_reason(err: BaseException) -> str:
    if isinstance(err, pickle.UnpicklingError):
        return "it holds objects other than weights, refused unread (weights_only=True)"
    first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return f"unreadable ({first_line})"


def checkpoint_mismatch(
    load_dict: Mapping[str, Any], checkpoint: Mapping[str, Any], optional_keys: Sequence[str] = ()
) -> str | None:
    """Return why ``checkpoint`` cannot be loaded into ``load_dict`` (None when it fits).

    Checked before anything is loaded, so a checkpoint of another bundle or network leaves every object as it was:
    each key but ``optional_keys`` must be present, and each network's weights must load into a copy of it (as
    ignite loads them: into the module a ``DistributedDataParallel`` wraps, through the network's own renaming of
    old parameter names).
    """
    missing = [key for key in load_dict if key not in checkpoint and key not in optional_keys]
    if missing:
        return f"it has no {', '.join(repr(k) for k in missing)} (saved by another bundle?)"
    for key, obj in load_dict.items():
        if not isinstance(obj, torch.nn.Module):
            continue
        module = obj.module if isinstance(obj, (DataParallel, DistributedDataParallel)) else obj
        try:
            copy.deepcopy(module).load_state_dict(checkpoint[key])
        except (RuntimeError, KeyError, TypeError, ValueError, AttributeError) as err:
            return f"its {key!r} does not fit this network ({one_line(err)[:300]})"
    return None


class ResumeFromLatestCheckpoint:
    """On ``STARTED``, load the newest interval checkpoint into ``load_dict`` (no-op on a fresh run).

    Checkpoints are loaded with ``weights_only=True``: a file that would need arbitrary unpickling is refused,
    never executed. A checkpoint that cannot be read (a run killed while writing it), that is not a safe weights
    file, or that does not fit ``load_dict`` (another bundle's, another network's) is skipped with a warning
    naming it and renamed to ``<name>.skipped`` (kept, but no longer taken for a checkpoint of this run, so it
    neither blocks pruning nor is tried again), and the next older one is tried.

    Args:
        checkpoint_dir: where the trainer's interval ``CheckpointSaver`` writes.
        load_dict: the objects to restore, the same dict the saver's ``save_dict`` holds.
        enabled: False to always start fresh.
        optional_keys: keys of ``load_dict`` that checkpoints of earlier versions lack (``early_stopping`` before
            0.8.4): loaded where present, otherwise left as they start, with a note.

    """

    def __init__(
        self, checkpoint_dir: str, load_dict: dict[str, Any], enabled: bool = True, optional_keys: Sequence[str] = ()
    ) -> None:
        self.checkpoint_dir = checkpoint_dir
        self.load_dict = load_dict
        self.enabled = enabled
        self.optional_keys = tuple(optional_keys)
        self.loaded_from: Path | None = None

    def attach(self, engine: Engine) -> None:
        """Register on the trainer before the first epoch."""
        engine.add_event_handler(Events.STARTED, self)

    def __call__(self, engine: Engine) -> None:
        """Load the newest checkpoint that reads and fits, keeping the configured ``max_epochs``."""
        if not self.enabled:
            return
        for path in latest_checkpoints(self.checkpoint_dir):
            try:
                checkpoint = torch.load(path, map_location="cpu", weights_only=True)
            # With weights_only=True a pickled object other than tensors, numbers, strings and plain containers is
            # refused (UnpicklingError), never run; a truncated file fails with whatever the unpickler meets
            # (EOFError, IndexError, RuntimeError...): each is this file's problem, so the next one is tried.
            except Exception as err:  # noqa: BLE001
                self._skip(path, _unreadable_reason(err))
                continue
            is_mapping = isinstance(checkpoint, Mapping)
            mismatch = checkpoint_mismatch(self.load_dict, checkpoint, self.optional_keys) if is_mapping else None
            if not is_mapping or mismatch:
                self._skip(path, f"it does not fit this bundle: {mismatch or 'not a dict'}")
                continue
            absent = [key for key in self.load_dict if key not in checkpoint]
            if absent:
                logger.info("%s has no %s (an earlier version's): those start afresh", path.name, ", ".join(absent))
            max_epochs = engine.state.max_epochs
            present = {key: obj for key, obj in self.load_dict.items() if key in checkpoint}
            Checkpoint.load_objects(to_load=present, checkpoint=checkpoint)
            engine.state.max_epochs = max_epochs
            self.loaded_from = path
            logger.info("resumed from %s at epoch %d", path, engine.state.epoch)
            return

    @staticmethod
    def _skip(path: Path, reason: str) -> None:
        """Warn and move ``path`` aside (rank 0 only: the ranks of a DDP run share the folder)."""
        aside = path.with_name(path.name + ".skipped")
        if idist.get_rank() == 0:
            path.replace(aside)
        logger.warning("skipping checkpoint %s: %s; renamed to %s", path, reason, aside.name)
