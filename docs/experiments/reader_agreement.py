"""How well two radiologists agree on the anatomical lungs of cxr-lung-lr: the human ceiling of the lung Dice.

Usage (from the repository root):
    python docs/experiments/reader_agreement.py [--dataset-dir ../shared/data/cxr-lung-lr]

For every case of ``data_manifests/cxr-lung-lr.json`` with a second reader (``SecondReader/<stem>.png``, both
lungs in one mask): the Dice of reader 2's lungs against reader 1's (``ManualMask`` right | left lung) at the
original resolution, per split and over all of them (mean, median, worst, and the 95% bootstrap interval of the
mean). No model is involved, so looking at the test split's readers chooses nothing.
"""

from __future__ import annotations

import argparse

import numpy as np

from lungseg_monai import manifest_for
from lungseg_monai.data import load_split, read_radiograph
from lungseg_monai.reports import mask_dice
from lungseg_monai.reports.statistics import summarize

SPLITS = ("training", "validation", "test")


def reader_dice(case: dict[str, str]) -> float:
    """Reader 2 against reader 1, both lungs, of one datalist case (absolute paths)."""
    reader1 = (read_radiograph(case["right_mask"])[0] > 0) | (read_radiograph(case["left_mask"])[0] > 0)
    return mask_dice(read_radiograph(case["second_reader"])[0] > 0, reader1)


def main() -> None:
    """Print the agreement per split and over all cases."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset-dir", default="../shared/data/cxr-lung-lr")
    args = parser.parse_args()
    every: list[float] = []
    for split in (*SPLITS, "all"):
        if split == "all":
            values = every
        else:
            cases = load_split(manifest_for(args.dataset_dir), split, args.dataset_dir)
            values = [reader_dice(case) for case in cases if "second_reader" in case]
            every.extend(values)
        stats = summarize(values)
        low, high = stats["ci95"]
        print(
            f"{split:10s} {stats['n']:3d} cases  reader 2 vs reader 1 Dice: mean {stats['mean']:.4f}  "
            f"median {stats['median']:.4f}  worst {stats['worst']:.4f}  95% interval of the mean {low:.4f}-{high:.4f}"
        )
    print(f"share of cases at or above 0.955: {np.mean(np.asarray(every) >= 0.955):.2f}")


if __name__ == "__main__":
    main()
