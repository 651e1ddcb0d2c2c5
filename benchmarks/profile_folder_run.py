"""Profile one folder run of a bundle in the main process (cProfile), writes inline so that they are profiled too.

Not a benchmark: profiling slows Python code down. It shows where a run's main-process time goes, e.g. the
one-off loading of highdicom's tables of the DICOM standard at the first SEG:

    python benchmarks/profile_folder_run.py ../shared/data/dicom --functions 40
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile

from lungseg_monai.workflows import bundle_workflow


def main() -> None:
    """Run the folder once under cProfile and print the functions with the largest cumulative time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input_dir")
    parser.add_argument("--bundle", default="unet")
    parser.add_argument("--functions", type=int, default=40, help="how many functions to print")
    args = parser.parse_args()
    workflow = bundle_workflow(
        args.bundle,
        "inference.json",
        "infer",
        device="cpu",
        item_threads=1,  # post-processing and writes in the main thread, where cProfile sees them
        input_dir=args.input_dir,
        output_dir=tempfile.mkdtemp(),
    )
    evaluator = workflow.parser.get_parsed_content("evaluator")
    profile = cProfile.Profile()
    profile.runcall(evaluator.run)
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.functions)


if __name__ == "__main__":
    main()
