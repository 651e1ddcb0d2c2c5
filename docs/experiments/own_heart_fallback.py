r"""The second opinion with the network's own cardiomediastinum (issue #30 experiment, not adopted).

:class:`OwnHeartFallbackd` is the bundles' :class:`~lungseg_monai.transforms.SecondOpinionFallbackd` with the
cardiomediastinum always taken from the network's own output: the lungs are averaged or replaced as shipped,
the heart is neither. ``when_agreeing_only`` keeps the second network's heart on the films that fall back.
Scored on validation with the stress benchmark (run from the repository root; this folder is on the path):

    python docs/experiments/opacity_stress.py --bundle pix2pix --splits validation --output /tmp/own-heart \\
        --override 'second_opinion_fallback#_target_="own_heart_fallback.OwnHeartFallbackd"'

(add ``'second_opinion_fallback#when_agreeing_only=true'`` for the second form), then compare with the shipped rows:

    python docs/experiments/own_heart_fallback.py /tmp/own-heart/opacity_stress_pix2pix.csv \
        docs/results/opacity_stress_pix2pix.csv

which prints the mean Dice of each run's validation rows: clean, painted, and the painted films the shipped
second opinion falls back on.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Hashable, Mapping

import numpy as np

from lungseg_monai.transforms import SecondOpinionFallbackd
from lungseg_monai.transforms.structures import CARDIOMEDIASTINUM


class OwnHeartFallbackd(SecondOpinionFallbackd):
    """:class:`SecondOpinionFallbackd` whose output keeps the network's cardiomediastinum channel."""

    def __init__(self, *args: object, when_agreeing_only: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.when_agreeing_only = when_agreeing_only

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        """Return the shipped choice with the cardiomediastinum of the network's half of the stacked output."""
        d = super().__call__(data)
        for key in self.key_iterator(d):
            if self.when_agreeing_only and d[self.info_key]["used"]:  # type: ignore[index]
                continue
            chosen = d[key].clone()  # type: ignore[union-attr]
            chosen[CARDIOMEDIASTINUM] = data[key][CARDIOMEDIASTINUM]  # type: ignore[index]
            d[key] = chosen
        return d


def _validation_rows(path: str) -> dict[tuple[str, str, str], dict[str, str]]:
    with open(path, newline="") as handle:
        return {(r["film"], r["kind"], r["severity"]): r for r in csv.DictReader(handle) if r["split"] == "validation"}


def main() -> None:
    """Print the mean Dice per subset of a variant's and the shipped run's validation rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", help="opacity_stress_<bundle>.csv of the variant")
    parser.add_argument("shipped", help="opacity_stress_<bundle>.csv of the shipped bundle")
    args = parser.parse_args()
    runs = {"variant": _validation_rows(args.variant), "shipped": _validation_rows(args.shipped)}
    shipped = runs["shipped"]
    subsets = {
        "clean": [k for k in shipped if k[1] == "clean"],
        "painted": [k for k in shipped if k[1] != "clean"],
        "painted, falls back": [k for k in shipped if shipped[k]["second_opinion_used"] == "True"],
    }
    for name, rows in runs.items():
        for subset, keys in subsets.items():
            means = {
                m: round(float(np.mean([float(rows[k][m]) for k in keys])), 4)
                for m in ("lungs", "visible_lungs", "cardiomediastinum")
            }
            print(name, subset, len(keys), means)


if __name__ == "__main__":
    main()
