"""Find every entry of an input folder tree and decide, without decoding, what a folder run does with it."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from lungseg_monai.data.dicom_io import is_dicom_file
from lungseg_monai.data.radiograph_io import JSRT_SUFFIXES, NIFTI_SUFFIXES, PIL_SUFFIXES
from lungseg_monai.inference.statuses import FAILED, IGNORED

__all__ = ["InputScan", "classify_entry", "scan_input_folder", "scan_listed_files"]


@dataclass
class InputScan:
    """What an input folder holds.

    Attributes:
        images: files to segment (regular files, or links to them, that look like radiographs), sorted.
        others: ``(path, status, reason)`` for every other entry that looks like a file: files that are not
            images, hidden files, broken or looping links, links to folders, pipes and devices, unlistable folders.

    """

    images: list[Path] = field(default_factory=list)
    others: list[tuple[Path, str, str]] = field(default_factory=list)

    def add(self, path: Path, input_dir: Path) -> None:
        """Put ``path`` (an entry under ``input_dir``) with the images or, with its status and reason, the others."""
        outcome = classify_entry(path, path.relative_to(input_dir))
        if outcome is None:
            self.images.append(path)
        else:
            self.others.append((path, *outcome))


def _looks_like_image(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(PIL_SUFFIXES + NIFTI_SUFFIXES + JSRT_SUFFIXES) or is_dicom_file(path)


def _classify_link(path: Path) -> tuple[str, str] | None:
    """Return ``(status, reason)`` for a link that cannot be segmented, None for a link to a regular file."""
    try:
        target = path.stat()
    except FileNotFoundError:
        return FAILED, f"broken symbolic link (its target {os.readlink(path)} does not exist)"
    except OSError as err:  # ELOOP for a link to itself or a cycle of links
        return FAILED, f"symbolic link cannot be followed ({err.strerror or err})"
    if stat.S_ISDIR(target.st_mode):
        return IGNORED, "symbolic link to a folder (not followed)"
    return None if stat.S_ISREG(target.st_mode) else (IGNORED, "link to something that is not a regular file")


def classify_entry(path: Path, rel: Path) -> tuple[str, str] | None:
    """Return ``(status, reason)`` for an entry that is not segmented, None for an image to segment."""
    if any(part.startswith(".") for part in rel.parts):
        return IGNORED, "hidden file (its name or a folder above it starts with '.')"
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        problem = _classify_link(path)
        if problem is not None:
            return problem
    elif not stat.S_ISREG(mode):
        return IGNORED, "not a regular file (a pipe, socket or device)"
    return None if _looks_like_image(path) else (IGNORED, "not an image file")


def scan_input_folder(input_dir: Path) -> InputScan:
    """List every entry under ``input_dir`` (recursively, links to folders not followed) with what to do with it.

    Regular files are only opened (to look for a DICOM preamble) when they are not hidden; pipes and devices are
    never opened, so a folder run cannot block on one.
    """
    scan = InputScan()
    unlistable: list[OSError] = []
    for root, folders, files in os.walk(input_dir, onerror=unlistable.append):
        root_path = Path(root)
        linked_folders = [name for name in folders if (root_path / name).is_symlink()]
        folders[:] = sorted(set(folders) - set(linked_folders))
        for name in sorted(files + linked_folders):
            scan.add(root_path / name, input_dir)
    for err in unlistable:
        scan.others.append((Path(err.filename), FAILED, f"folder cannot be listed ({err.strerror})"))
    scan.images.sort()
    scan.others.sort()
    return scan


def scan_listed_files(input_dir: Path, files: list[Path]) -> InputScan:
    """Classify only ``files`` (paths under ``input_dir``) as :func:`scan_input_folder` would; a missing one fails."""
    scan = InputScan()
    for path in sorted(files):
        if path.is_file():
            scan.add(path, input_dir)
        else:
            scan.others.append((path, FAILED, "no such file"))
    return scan
