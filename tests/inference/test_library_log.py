"""A bundle folder run (``python -m monai.bundle run`` of inference.json) keeps library tracebacks in its log file."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from lungseg_monai.inference import LibraryLogFile

REPO = Path(__file__).resolve().parents[2]


def test_a_bundle_run_prints_no_decoder_traceback_and_logs_it(broken_and_noisy_films, tmp_path):
    inputs = broken_and_noisy_films
    configs = "['bundles/unet/configs/train.json','bundles/unet/configs/inference.json']"
    command = [sys.executable, "-m", "monai.bundle", "run", "--config_file", configs, "--bundle_root", "bundles/unet",
               "--input_dir", str(inputs), "--output_dir", str(tmp_path / "out")]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    console = result.stdout + result.stderr
    assert result.returncode == 1, console[-3000:]  # the broken film failed, the other was segmented
    assert "Traceback" not in console and "ERROR" not in console, console[-3000:]  # pydicom's decoder errors
    assert "failed: " in console and "broken.dcm: pixel data cannot be decoded" in console
    log = (tmp_path / "out" / "lungseg.log").read_text()
    assert "Traceback" in log and "Error decoding the J2K data" in log
    assert "exceeds the maximum length of 16 allowed for VR SH" in log


def test_a_process_with_its_own_log_file_keeps_its_routing(tmp_path):
    own = logging.FileHandler(tmp_path / "node" / "lungseg.log", delay=True)
    root = logging.getLogger()
    root.addHandler(own)
    try:
        handler = LibraryLogFile(tmp_path)
        handler.start()
        assert not (tmp_path / "lungseg.log").exists()  # lungseg and lungseg serve route libraries themselves
        assert logging.getLogger("pydicom").propagate
    finally:
        root.removeHandler(own)
        own.close()


def test_the_loggers_come_back_when_the_run_completes(tmp_path):
    pydicom_logger = logging.getLogger("pydicom")
    before = (pydicom_logger.handlers[:], pydicom_logger.propagate, pydicom_logger.level)
    handler = LibraryLogFile(tmp_path)
    handler.start()
    logging.getLogger("pydicom.pixels").error("a decoder failed")
    handler.stop()
    assert "a decoder failed" in (tmp_path / "lungseg.log").read_text()
    assert (pydicom_logger.handlers, pydicom_logger.propagate, pydicom_logger.level) == before


def test_overlapping_runs_put_the_loggers_back_when_the_last_one_ends(tmp_path):
    # The node's workers run bundles in threads of one process: the first run's stop must not undo the second's
    # start, nor the second's stop restore the first's diverted state (before 0.8.4 pydicom stayed silenced that way).
    pydicom_logger = logging.getLogger("pydicom")
    before = (pydicom_logger.handlers[:], pydicom_logger.propagate, pydicom_logger.level)
    first, second = LibraryLogFile(tmp_path / "a"), LibraryLogFile(tmp_path / "b")
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first.start()
    second.start()
    logging.getLogger("pydicom.pixels").error("while both ran")
    first.stop()
    assert not pydicom_logger.propagate  # the second run still writes its file
    logging.getLogger("pydicom.pixels").error("while the second ran")
    second.stop()
    assert (pydicom_logger.handlers, pydicom_logger.propagate, pydicom_logger.level) == before
    assert (tmp_path / "a" / "lungseg.log").read_text().count("\n") == 1
    assert "while both ran" in (tmp_path / "a" / "lungseg.log").read_text()
    assert "while the second ran" in (tmp_path / "b" / "lungseg.log").read_text()
