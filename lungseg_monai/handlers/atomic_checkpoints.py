"""MONAI's ``CheckpointSaver``, each file written whole or not at all."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ignite.handlers import DiskSaver
from monai.handlers import CheckpointSaver

__all__ = ["AtomicCheckpointSaver", "TEMPORARY_CHECKPOINT", "leftover_temporary_checkpoints"]

#: Names of the temporary files an atomic save writes before renaming (``tempfile.NamedTemporaryFile``'s).
TEMPORARY_CHECKPOINT = re.compile(r"tmp[a-z0-9_]{8}")


class AtomicCheckpointSaver(CheckpointSaver):
    """A ``CheckpointSaver`` whose files are written to a temporary file beside them, then renamed over them.

    MONAI's saver writes in place (ignite's ``DiskSaver`` with ``atomic=False``), so a Ctrl-C or a kill during a
    save leaves a truncated file: an interval checkpoint that a resume must skip, or a truncated ``model.pt``.
    Worse, for a fixed file name (``key_metric_filename="model.pt"``) ignite's ``Checkpoint`` deletes the old file
    *before* writing the new one, so an interrupt there loses the best weights so far, which nothing rewrites
    until the validation improves again. Here every save goes through ignite's atomic path (temporary file in the
    same folder, ``os.replace``, group/others read added) and a fixed-name file is not deleted first (the rename
    replaces it), so a file is either the previous one or the new one. A kill (SIGKILL) during a save leaves the
    temporary file; :class:`~lungseg_monai.handlers.PruneCheckpoints` removes such files. Arguments as for
    ``CheckpointSaver``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for checkpoint in (self._final_checkpoint, self._key_metric_checkpoint, self._interval_checkpoint):
            if checkpoint is None:
                continue
            if not isinstance(checkpoint.save_handler, DiskSaver):  # a MONAI release that saves another way
                raise TypeError(f"cannot make {type(checkpoint.save_handler).__name__} atomic")
            checkpoint.save_handler._atomic = True
            if getattr(checkpoint.save_handler, "filename", None) is not None:  # MONAI's fixed file name
                checkpoint.save_handler.remove = _keep


def _keep(filename: str) -> None:
    """Do not delete a fixed-name file before it is saved again: the atomic save replaces it."""


def leftover_temporary_checkpoints(checkpoint_dir: str | Path) -> list[Path]:
    """Return the temporary files that killed atomic saves left in ``checkpoint_dir``."""
    folder = Path(checkpoint_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and TEMPORARY_CHECKPOINT.fullmatch(p.name))
