"""What ``lungseg --input`` names: a folder, one file, or a text file listing files.

A folder is searched recursively, as before. A single file, or the files a list names, are segmented as the same
files would be in a folder run: their outputs go to ``<output-dir>/<path relative to the files' common folder>``,
and a listed file that does not exist is reported ``failed`` ("no such file") in the run summary.
"""

from __future__ import annotations

import os
from pathlib import Path

from lungseg_monai.inference.usage import UsageError

__all__ = ["LIST_SUFFIXES", "InputSelection", "select_inputs"]

#: Suffixes of a text file that lists input files (one path per line; ``#`` starts a comment).
LIST_SUFFIXES = (".txt", ".lst", ".list")


class InputSelection:
    """The folder a run reads and, for a file or a list, the files it considers (relative to that folder).

    Attributes:
        input_dir: the folder (for a file or a list: the deepest folder holding every file).
        files: the files, relative to ``input_dir``; None for a whole folder.

    """

    def __init__(self, input_dir: Path, files: list[Path] | None) -> None:
        self.input_dir, self.files = input_dir, files


def _listed_paths(listing: Path, argument: str) -> list[Path]:
    try:
        lines = listing.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"{argument} {listing}: cannot be read as a list of files ({err})") from None
    paths = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not paths:
        raise UsageError(f"{argument} {listing}: the list names no file")
    return [path if path.is_absolute() else listing.parent / path for path in map(Path, paths)]


def select_inputs(path: Path, argument: str = "--input") -> InputSelection:
    """Return what ``path`` names: a folder, a list of files (:data:`LIST_SUFFIXES`) or one file.

    Raises:
        UsageError: ``path`` does not exist, or a list that cannot be read or names nothing.

    """
    if path.is_dir():
        return InputSelection(path, None)
    if not path.exists():
        raise UsageError(f"{argument} {path}: no such file or folder")
    files = _listed_paths(path, argument) if path.name.lower().endswith(LIST_SUFFIXES) else [path]
    files = [Path(os.path.normpath(file.absolute())) for file in files]
    common = Path(os.path.commonpath([file.parent for file in files]))
    return InputSelection(common, [file.relative_to(common) for file in files])
