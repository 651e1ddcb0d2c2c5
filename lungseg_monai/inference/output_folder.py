"""Claim an output folder for a folder run (or one shard of it), and remove the leftovers of killed runs."""

from __future__ import annotations

import fcntl
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from lungseg_monai.data.atomic_writes import TEMPORARY_NAME
from lungseg_monai.inference.shards import Shard
from lungseg_monai.inference.usage import UsageError

__all__ = ["claim_output_folder", "locked_file", "remove_temporary_files", "temporary_file_target"]

logger = logging.getLogger(__name__)

#: ``.<target>.<8 random characters><suffix>``, the names ``atomic_path`` gives (``tempfile.mkstemp``).
_TEMPORARY_TARGET = re.compile(r"^\.(?P<target>.+)\.[A-Za-z0-9_]{8}\.tmp(\.nii\.gz)?$")


def temporary_file_target(path: Path) -> Path | None:
    """Return the file a temporary file of ``atomic_path`` was to become, or None for another name."""
    match = _TEMPORARY_TARGET.match(path.name)
    return path.with_name(match["target"]) if match else None


def remove_temporary_files(output_dir: Path, owned: Callable[[Path], bool] | None = None) -> list[Path]:
    """Delete the temporary files that killed runs left under ``output_dir``; returns them.

    Args:
        output_dir: the output folder.
        owned: keep a temporary file unless ``owned(target)`` is true for the file it was to become (a shard
            removes only its own, since other shards may be writing beside it); None removes every one.

    """
    removed = []
    for root, _, files in os.walk(output_dir):
        for name in files:
            path = Path(root) / name
            if not TEMPORARY_NAME.match(name):
                continue
            target = temporary_file_target(path)
            if owned is None or (target is not None and owned(target)):
                path.unlink(missing_ok=True)
                removed.append(path)
    if removed:
        logger.info("removed %d temporary file(s) left by an interrupted run in %s", len(removed), output_dir)
    return removed


def _lock(handle: int, mode: int, busy: str) -> None:
    try:
        fcntl.flock(handle, mode | fcntl.LOCK_NB)
    except BlockingIOError as err:
        raise UsageError(busy) from err


@contextmanager
def locked_file(path: Path, busy: str | None = None) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing) during the block.

    Args:
        path: the lock file.
        busy: refuse at once with ``UsageError(busy)`` when another process holds the lock; None waits for it.

    """
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if busy is None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        else:
            _lock(handle, fcntl.LOCK_EX, busy)
        yield
    finally:
        os.close(handle)


@contextmanager
def claim_output_folder(output_dir: Path, shard: Shard | None = None, shared: bool = False) -> Iterator[None]:
    """Create ``output_dir`` and lock it for this run (or this shard) until the block ends.

    A whole-folder run locks the folder exclusively. A shard shares the folder with the other shards and locks
    its own ``.lungseg-<shard>.lock`` exclusively, so two runs of one shard, or a whole-folder run beside shards,
    are refused. With ``shared`` (a run of listed files, such as a DICOM node's batches) only the shared lock is
    taken: such runs write side by side, and a whole-folder run is refused while one holds the folder. The locks
    are ``flock``s, released by the kernel even when the process is killed.

    Raises:
        UsageError: another run holds the folder (or the shard), or it cannot be created.

    """
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        handle = os.open(output_dir, os.O_RDONLY)
    except OSError as err:
        raise UsageError(f"--output-dir {output_dir}: cannot be created ({err.strerror})") from err
    if not os.access(output_dir, os.W_OK | os.X_OK):
        os.close(handle)
        raise UsageError(f"--output-dir {output_dir}: not writable")
    try:
        if shared:
            _lock(handle, fcntl.LOCK_SH, f"--output-dir {output_dir}: a whole-folder lungseg run is writing into it")
            yield
        elif shard is None:
            _lock(handle, fcntl.LOCK_EX, f"--output-dir {output_dir}: another lungseg run is writing into it")
            yield
        else:
            _lock(handle, fcntl.LOCK_SH, f"--output-dir {output_dir}: a whole-folder lungseg run is writing into it")
            busy = f"--output-dir {output_dir}: another run of shard {shard.index}/{shard.count} is writing into it"
            with locked_file(output_dir / f".lungseg-{shard.label}.lock", busy):
                yield
    finally:
        os.close(handle)
