"""Paired difference of two runs of the opacity stress benchmark on the same films (one kind and severity).

    python docs/experiments/paired_stress_rows.py docs/results/unet_opacity_finetune/opacity_stress_unet.csv \
        docs/results/opacity_stress_unet.csv --kind clean

Prints, per split and scored structure, the mean difference (first minus second) with its 95% bootstrap CI and
p-values (``lungseg_monai.reports.statistics.paired_comparison``, as ``lungseg-compare`` reports them).
"""

from __future__ import annotations

import argparse
import csv

from lungseg_monai.reports.opacity_stress import STRESS_SCORED
from lungseg_monai.reports.statistics import paired_comparison


def _rows(path: str, kind: str, severity: int) -> dict[tuple[str, str], dict]:
    with open(path, newline="") as handle:
        return {
            (row["split"], row["film"]): row
            for row in csv.DictReader(handle)
            if row["kind"] == kind and int(row["severity"]) == severity
        }


def main() -> None:
    """Print the paired differences."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--kind", default="clean")
    parser.add_argument("--severity", type=int, default=0)
    args = parser.parse_args()
    first, second = _rows(args.first, args.kind, args.severity), _rows(args.second, args.kind, args.severity)
    for split in sorted({split for split, _ in first}):
        films = sorted(key for key in first if key[0] == split and key in second)
        for channel in STRESS_SCORED:
            a = [float(first[key][channel]) for key in films]
            b = [float(second[key][channel]) for key in films]
            result = paired_comparison(a, b)
            lower = sum(x < y for x, y in zip(a, b, strict=True))
            ci = [round(v, 4) for v in result["ci95_difference"]]
            print(split, channel, f"difference {result['mean_difference']:+.4f}, 95% CI {ci}", f"Wilcoxon p "
                  f"{result['wilcoxon_p']:.4f}, lower on {lower} of {len(films)} films")  # fmt: skip


if __name__ == "__main__":
    main()
