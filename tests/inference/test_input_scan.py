"""Every entry of an input folder gets a decision, and odd entries are never opened as images."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lungseg_monai.inference.input_scan import scan_input_folder

REPO = Path(__file__).resolve().parents[2]
CHEST = REPO / "sample_data" / "dicom" / "CR-MONO1-10-chest"


def test_every_entry_is_classified_and_special_files_are_not_opened(tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / ".git").mkdir()
    shutil.copy(CHEST, folder / "sub" / "chest")
    shutil.copy(CHEST, folder / ".hidden.dcm")
    shutil.copy(CHEST, folder / ".git" / "chest.dcm")
    (folder / "notes.txt").write_text("a note")
    os.symlink(folder / "sub" / "chest", folder / "link-to-chest")
    os.symlink(tmp_path / "gone.dcm", folder / "dangling.dcm")
    os.symlink("loop.dcm", folder / "loop.dcm")
    os.symlink(tmp_path, folder / "link-to-folder")
    os.mkfifo(folder / "pipe.dcm")  # opening it to look for a DICOM preamble would block forever

    scan = scan_input_folder(folder)

    assert [p.relative_to(folder).as_posix() for p in scan.images] == ["link-to-chest", "sub/chest"]
    others = {p.relative_to(folder).as_posix(): (status, reason) for p, status, reason in scan.others}
    assert others == {
        ".git/chest.dcm": ("ignored", "hidden file (its name or a folder above it starts with '.')"),
        ".hidden.dcm": ("ignored", "hidden file (its name or a folder above it starts with '.')"),
        "dangling.dcm": ("failed", f"broken symbolic link (its target {tmp_path / 'gone.dcm'} does not exist)"),
        "link-to-folder": ("ignored", "symbolic link to a folder (not followed)"),
        "loop.dcm": ("failed", "symbolic link cannot be followed (Too many levels of symbolic links)"),
        "notes.txt": ("ignored", "not an image file"),
        "pipe.dcm": ("ignored", "not a regular file (a pipe, socket or device)"),
    }
