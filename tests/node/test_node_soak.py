"""The soak of ``benchmarks/node_soak.py`` in CI: a real ``lungseg serve`` whose memory must not keep growing.

75 films, a sample after each round of the 15 shared radiographs, so that samples compare like with like (blocks
of 10 see different films, and the largest films decoded set the RSS); the first two rounds are the warm-up (the
RSS rose by 17% from the first round to the second, then stayed within 2%).
"""

from __future__ import annotations

import json
import subprocess
import sys

from shared_data import REPO


def test_seventy_five_films_leave_the_node_memory_where_it_was_after_two_rounds(dicom_dir, tmp_path):
    result_file = tmp_path / "soak.json"
    command = [sys.executable, str(REPO / "benchmarks" / "node_soak.py"), "--dicom-dir", str(dicom_dir),
               "--films", "75", "--every", "15", "--warm-up", "30", "--json", str(result_file)]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result_file.is_file(), run.stdout[-2000:] + run.stderr[-2000:]
    result = json.loads(result_file.read_text())
    samples = result["samples"]
    assert [sample["films"] for sample in samples] == [15, 30, 45, 60, 75]
    assert all(sample["rss_mib"] > 100 for sample in samples)  # a real process was measured
    for fact in ("threads", "open_files"):  # nothing left behind per batch (an association may still be closing)
        assert max(sample[fact] for sample in samples) <= samples[0][fact] + 2, samples
    assert result["growth"] <= 0.10, run.stdout  # the same check as the 1,000-film soak
    assert run.returncode == 0, run.stdout[-2000:]
