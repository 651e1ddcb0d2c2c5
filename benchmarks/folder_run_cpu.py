"""CPU seconds of one folder run: what a run costs the machine, beside its wall time.

A run is CPU-bound when its CPU seconds (main process and DataLoader workers) come close to wall time x cores; the
gap is time the cores wait. With the run's CPU seconds, no scheduling of the same work on ``C`` cores can beat
``cpu_seconds / C`` of wall time. Not a test; start-up (imports, config, weights check) is left out:

    python benchmarks/folder_run_cpu.py ../shared/data/cxr-lung-lr/images --repeats 2
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from lungseg_monai.workflows import bundle_workflow


def _cpu_seconds() -> tuple[float, float]:
    """Return the user + system seconds of this process (all threads) and of its ended child processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def main() -> None:
    """Run the folder ``--repeats`` times and print wall and CPU seconds of each run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input_dir")
    parser.add_argument("--bundle", default="unet")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    for _ in range(args.repeats):
        output_dir = tempfile.mkdtemp()
        workflow = bundle_workflow(
            args.bundle, "inference.json", "infer", device="cpu", input_dir=args.input_dir, output_dir=output_dir
        )
        evaluator = workflow.parser.get_parsed_content("evaluator")
        own_before, children_before = _cpu_seconds()
        start = time.perf_counter()
        evaluator.run()
        wall = time.perf_counter() - start
        gc.collect()  # the DataLoader workers have ended and been waited for: their seconds are counted
        own_after, children_after = _cpu_seconds()
        own, workers = own_after - own_before, children_after - children_before
        total = own + workers
        done = json.loads((Path(output_dir) / "run_summary.json").read_text())["counts"].get("done", 0)
        print(
            f"{done} done  wall {wall:6.2f} s  CPU: main process {own:6.2f} s, DataLoader workers {workers:5.2f} s, "
            f"total {total:6.2f} s = {total / wall:4.2f} of {cores} cores busy; "
            f"no schedule on {cores} cores beats {total / cores:5.2f} s ({done * cores / total:5.2f} img/s)"
        )


if __name__ == "__main__":
    main()
