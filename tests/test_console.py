"""The console commands besides ``lungseg``: a stop signal gives one line and exit 130, never a traceback.

Each command pauses before its module is imported (``LUNGSEG_PAUSE_AT=start``), where a Ctrl-C used to print a
``KeyboardInterrupt`` traceback from the imports (matplotlib's, for ``lungseg-compare``), and is signalled there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from shared_data import REPO

from lungseg_monai.stop_signals import PAUSE_VARIABLE

SCRIPTS = Path(sys.executable).parent
SAMPLE = REPO / "sample_data" / "cxr-lung-lr-sample"
EXIT_INTERRUPTED = 130


def _arguments(command: str, tmp_path: Path) -> list[str]:
    if command == "lungseg-compare":
        return ["--reports", f"a={tmp_path}", f"b={tmp_path}", "--output", str(tmp_path / "compare")]
    return [str(SAMPLE), str(tmp_path / "manifest.json")]


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("command", ["lungseg-compare", "lungseg-manifest"])
def test_a_signal_before_the_imports_gives_one_line_and_exit_130(tmp_path, command, signal_name):
    env = {**os.environ, PAUSE_VARIABLE: "start", "LUNGSEG_PAUSE_SECONDS": "60"}
    arguments = [str(SCRIPTS / command), *_arguments(command, tmp_path)]
    process = subprocess.Popen(arguments, cwd=REPO, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert process.stderr.readline().strip() == "lungseg: paused at start"
        os.killpg(process.pid, getattr(signal, signal_name))  # a terminal's Ctrl-C reaches the whole group
        stderr = process.communicate(timeout=60)[1]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert stderr.strip().splitlines() == [f"{command}: interrupted"]
    assert not any(tmp_path.iterdir())  # nothing written


def test_an_unsignalled_command_runs_to_its_own_end(tmp_path):
    result = subprocess.run([str(SCRIPTS / "lungseg-manifest"), *_arguments("lungseg-manifest", tmp_path)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    datalist = json.loads((tmp_path / "manifest.json").read_text())
    assert sum(len(datalist[split]) for split in ("training", "validation", "test")) == len(
        list((SAMPLE / "images").glob("*.png"))
    )
    assert [path.name for path in tmp_path.iterdir()] == ["manifest.json"]  # no temporary file left


def test_a_folder_without_images_gives_one_line_and_exit_2(tmp_path):
    result = subprocess.run([str(SCRIPTS / "lungseg-manifest"), str(tmp_path / "nowhere"), str(tmp_path / "m.json")],
                            cwd=REPO, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "nowhere: no image folder" in result.stderr
    assert not (tmp_path / "m.json").exists()
