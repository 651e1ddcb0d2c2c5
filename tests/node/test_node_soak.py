"""The soak of ``benchmarks/node_soak.py`` in CI: a real ``lungseg serve`` whose memory must not keep growing.

90 films, a sample after each round of the 15 shared radiographs, so that samples compare like with like (blocks
of 10 see different films, and the largest films decoded set the RSS); the first three rounds are the warm-up. The
RSS still rises over the first two or three rounds (by 2-14% from the first round to the third in five runs), then
moves by up to 70 MiB from round to round without a trend; with two rounds of warm-up, a run whose second round
was still low failed the 10% check once (+14.6%). That the node frees each run's engine at once, the fault this soak
found, is checked without the noise of the RSS in test_bundle_runner.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

from shared_data import REPO


def test_ninety_films_leave_the_node_memory_where_it_was_after_three_rounds(dicom_dir, tmp_path):
    result_file = tmp_path / "soak.json"
    command = [sys.executable, str(REPO / "benchmarks" / "node_soak.py"), "--dicom-dir", str(dicom_dir),
               "--films", "90", "--every", "15", "--warm-up", "45", "--json", str(result_file)]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result_file.is_file(), run.stdout[-2000:] + run.stderr[-2000:]
    result = json.loads(result_file.read_text())
    samples = result["samples"]
    assert [sample["films"] for sample in samples] == [15, 30, 45, 60, 75, 90]
    assert all(sample["rss_mib"] > 100 for sample in samples)  # a real process was measured
    for fact in ("threads", "open_files"):  # nothing left behind per batch (an association may still be closing)
        assert max(sample[fact] for sample in samples) <= samples[0][fact] + 2, samples
    assert result["growth"] <= 0.10, run.stdout  # the same check as the 1,000-film soak
    assert run.returncode == 0, run.stdout[-2000:]
