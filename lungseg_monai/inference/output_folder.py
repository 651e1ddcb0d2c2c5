"""Claim an output folder for one folder run: an exclusive lock, and the leftovers of killed runs removed."""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lungseg_monai.data.atomic_writes import TEMPORARY_NAME
from lungseg_monai.inference.usage import UsageError

__all__ = ["claim_output_folder", "remove_temporary_files"]

logger = logging.getLogger(__name__)


def remove_temporary_files(output_dir: Path) -> list[Path]:
    """Delete the temporary files that killed runs left anywhere under ``output_dir``; returns them."""
    removed = []
    for root, _, files in os.walk(output_dir):
        for name in files:
            if TEMPORARY_NAME.match(name):
                path = Path(root) / name
                path.unlink(missing_ok=True)
                removed.append(path)
    if removed:
        logger.info("removed %d temporary file(s) left by an interrupted run in %s", len(removed), output_dir)
    return removed


@contextmanager
def claim_output_folder(output_dir: Path) -> Iterator[None]:
    """Create ``output_dir``, lock it for this run and clean it of temporary files while the lock is held.

    The lock (``flock`` on the folder itself, released by the kernel even when the process is killed) keeps two
    runs from writing into one folder, and so from deleting each other's temporary files.

    Raises:
        UsageError: another run holds the folder, or it cannot be created.

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
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            raise UsageError(f"--output-dir {output_dir}: another lungseg run is writing into it") from err
        remove_temporary_files(output_dir)
        yield
    finally:
        os.close(handle)
