"""What the shipped bundles still get wrong, counted from the committed opacity stress rows (the README's limitations).

    python docs/experiments/what_still_goes_wrong.py

Reads ``docs/results/opacity_stress_<bundle>.csv`` (every clean and painted validation and test film, scored once
by each bundle's evaluation pipeline) and ``data_manifests/dense_opacity_films.csv``, and prints per bundle and
split: the rows marked ``ok`` whose worse lung's base stops more than a tenth of the lung's height above the drawn
one, the rows marked ``ok`` with lung Dice below 0.90, the cardiomediastinum Dice of the rows whose structures come
from the second network, and each real dense-opacity film's lung Dice, base shortfall and quality. Nothing is run.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: A base shortfall (share of the drawn lung's height) a reader would call a lung cut short.
SHORT_BASE = 0.10
#: Lung Dice below which issue #30 counts a film as a failure.
FAILURE = 0.90


def _rows(bundle: str) -> list[dict[str, str]]:
    with open(REPO / "docs" / "results" / f"opacity_stress_{bundle}.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _film(row: dict[str, str]) -> str:
    lungs, base = float(row["lungs"]), row["base_shortfall"]
    return f"{row['film']} ({row['kind']} {row['severity']}): lungs {lungs:.4f}, base {base}"


def report(bundle: str, dense_films: set[str]) -> None:
    """Print one bundle's figures."""
    rows = _rows(bundle)
    for split in ("validation", "test"):
        in_split = [row for row in rows if row["split"] == split]
        ok = [row for row in in_split if row["quality"] == "ok"]
        short = [row for row in ok if float(row["base_shortfall"]) > SHORT_BASE]
        failed = [row for row in ok if float(row["lungs"]) < FAILURE]
        second = [float(row["cardiomediastinum"]) for row in in_split if row["second_opinion_used"] == "True"]
        print(f"{bundle} {split}: {len(in_split)} rows, {len(ok)} ok")
        print(f"  ok with a base more than {SHORT_BASE} of the lung's height short: {len(short)}")
        for row in short:
            print(f"    {_film(row)}")
        print(f"  ok with lung Dice below {FAILURE}: {len(failed)}")
        for row in failed:
            print(f"    {_film(row)}, predicted {row['predicted_dice']}")
        if second:
            below = sum(value < FAILURE for value in second)
            print(
                f"  second network's structures: {len(second)} rows, cardiomediastinum Dice {min(second):.4f} to "
                f"{max(second):.4f}, {below} below {FAILURE}"
            )
        print("  real dense-opacity films (clean rows):")
        for row in in_split:
            if row["kind"] == "clean" and row["film"] in dense_films:
                print(
                    f"    {row['film']}: lungs {float(row['lungs']):.4f}, cardiomediastinum "
                    f"{float(row['cardiomediastinum']):.4f}, base {row['base_shortfall']}, {row['quality']}"
                )


def main() -> None:
    """Print the figures of both bundles."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", nargs="+", default=["unet", "pix2pix"])
    args = parser.parse_args()
    with open(REPO / "data_manifests" / "dense_opacity_films.csv", newline="") as handle:
        dense_films = {row["film"] for row in csv.DictReader(handle)}
    for bundle in args.bundles:
        report(bundle, dense_films)


if __name__ == "__main__":
    main()
