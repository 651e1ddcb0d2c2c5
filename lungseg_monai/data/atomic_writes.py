"""Write files atomically: a temporary file in the target's folder, renamed onto the target when complete."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["atomic_path", "write_atomic", "write_json", "write_csv", "TEMPORARY_NAME"]

#: The names :func:`atomic_path` gives its temporary files (``.<target name>.<random><suffix>``), so that a later
#: run can find and remove those a killed one left.
TEMPORARY_NAME = re.compile(r"^\..+\.tmp(\.nii\.gz)?$")


@contextmanager
def atomic_path(target: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it onto ``target``, on error delete it.

    ``suffix`` ends the temporary name (``".tmp.nii.gz"`` for a writer that picks the format from the suffix); it
    must match :data:`TEMPORARY_NAME`.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=suffix)
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        # mkstemp creates 0600 files; give outputs the usual permissions (0666 less the umask).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, target)
    finally:
        if temp.exists():
            temp.unlink()


def write_atomic(target: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write`` on a temporary path beside ``target`` and rename the result onto ``target``."""
    with atomic_path(target) as temp:
        write(temp)
    return Path(target)


def write_json(target: str | Path, record: dict[str, Any]) -> Path:
    """Write ``record`` as indented JSON."""
    return write_atomic(target, lambda p: p.write_text(json.dumps(record, indent=2, default=str) + "\n"))


def write_csv(target: str | Path, rows: Iterable[dict[str, Any]], columns: list[str]) -> Path:
    """Write ``rows`` (dicts keyed by ``columns``) as a CSV file with a header line."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return write_atomic(target, lambda p: p.write_text(buffer.getvalue()))
