"""What a change of the second opinion's switch does to the opacity stress rows: two runs of the same films compared.

    python docs/experiments/switched_stress_rows.py docs/results/opacity_stress_unet.csv \
        docs/results/opacity_stress_unet_base_gap_0.06.csv

Prints, per split, each row whose lung Dice or choice of network changed (before -> after), then before -> after:
the mean lung Dice, cardiomediastinum Dice and base shortfall of the clean films and of each severity (every kind
together), the rows below lung Dice 0.90, the rows whose kept lungs stop more than 0.10 of their height short and are
marked ``ok``, and how many rows below 0.90 are marked ``check`` (the quality score and every flag together). Both
CSVs are ``opacity_stress.py``'s (with ``base_shortfall``).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

Key = tuple[str, str, str]
#: The columns compared.
COLUMNS = ("split", "film", "kind", "severity", "lungs", "cardiomediastinum", "base_shortfall", "quality",
           "second_opinion_used")  # fmt: skip


def _rows(path: str) -> dict[str, dict[Key, dict]]:
    """Return the rows of a stress CSV by split, then by (film, kind, severity)."""
    by_split: dict[str, dict[Key, dict]] = {}
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: no {', '.join(sorted(missing))} column (opacity_stress.py's CSV, 0.8.7 on)")
        for row in reader:
            by_split.setdefault(row["split"], {})[(row["film"], row["kind"], row["severity"])] = row
    return by_split


def _counts(rows: dict[Key, dict]) -> dict[str, int]:
    failed = [row for row in rows.values() if float(row["lungs"]) < 0.90]
    short_ok = [row for row in rows.values() if float(row["base_shortfall"]) > 0.10 and row["quality"] == "ok"]
    return {
        "below 0.90": len(failed),
        "below 0.90 marked check": sum(row["quality"] == "check" for row in failed),
        "more than 0.10 short and ok": len(short_ok),
    }


def main() -> None:
    """Print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    args = parser.parse_args()
    for path in (args.before, args.after):
        if not Path(path).is_file():
            parser.error(f"{path}: no such file")
    try:
        before, after = _rows(args.before), _rows(args.after)
    except ValueError as error:
        parser.error(str(error))
    for split in sorted(set(before) & set(after)):
        a, b = before[split], after[split]
        keys = sorted(set(a) & set(b))
        changed = [
            k
            for k in keys
            if (a[k]["lungs"], a[k]["second_opinion_used"]) != (b[k]["lungs"], b[k]["second_opinion_used"])
        ]
        print(f"{split}: {len(keys)} rows, {len(changed)} changed")
        for k in changed:
            print(f"  {k[0]} {k[1]} {k[2]}: lungs {a[k]['lungs']} -> {b[k]['lungs']}, cardiomediastinum "
                  f"{a[k]['cardiomediastinum']} -> {b[k]['cardiomediastinum']}, base shortfall {a[k]['base_shortfall']}"
                  f" -> {b[k]['base_shortfall']}, {a[k]['quality']} -> {b[k]['quality']}, second network used "
                  f"{a[k]['second_opinion_used']} -> {b[k]['second_opinion_used']}")  # fmt: skip
        for severity in sorted({k[2] for k in keys}):
            chosen = [k for k in keys if k[2] == severity]
            means = [
                f"{column} {np.mean([float(a[k][column]) for k in chosen]):.4f} -> "
                f"{np.mean([float(b[k][column]) for k in chosen]):.4f}"
                for column in ("lungs", "cardiomediastinum", "base_shortfall")
            ]
            print(f"  severity {severity} ({len(chosen)} rows): {', '.join(means)}")
        counts_a, counts_b = _counts(a), _counts(b)
        print("  " + ", ".join(f"{name} {counts_a[name]} -> {counts_b[name]}" for name in counts_a))


if __name__ == "__main__":
    main()
