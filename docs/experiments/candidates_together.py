"""The measured quality-score candidates together, added to a bundle's score features (issue #30, part 3).

Each candidate experiment (``rca_quality.py``, ``dropout_quality.py``, ``learned_quality.py``) wrote the validation
stress rows with its own columns, beside the same rows' quality features. This joins them on (film, kind, severity)
and prints the AUROC for lung Dice < 0.90 of the four features of Pix2Pix's score with the candidates added, each fit
with the film's rows left out: a ceiling on what the candidates give together, whatever they cost::

    python docs/experiments/candidates_together.py --bundle pix2pix --results docs/results
"""

from __future__ import annotations

import argparse
from pathlib import Path

from quality_score_fit import CANDIDATE_FEATURE_SETS, leave_one_film_out_auroc, read_rows

#: Each experiment's rows and the candidate columns taken from them.
EXPERIMENTS = {
    "rca_quality": ("rca_max", "flip", "flip_first", "flip_second"),
    "dropout_quality": ("mc_agreement", "mc_spread"),
    "learned_quality": ("learned",),
}

#: The combinations printed, in order.
COMBINATIONS = (
    ("rca_max", "mc_agreement"),
    ("rca_max", "mc_agreement", "learned"),
    ("rca_max", "mc_agreement", "learned", "flip_second"),
    ("rca_max", "mc_agreement", "mc_spread", "learned", "flip", "flip_first", "flip_second"),
)


def joined_rows(results: Path, bundle: str, split: str = "validation") -> list[dict]:
    """Return ``split``'s stress rows with every experiment's candidate columns (rows all experiments scored)."""
    tables = []
    for experiment, columns in EXPERIMENTS.items():
        path = results / f"{experiment}_{bundle}.csv"
        if not path.exists():
            raise SystemExit(f"error: {path}: no such file (run docs/experiments/{experiment}.py --bundle {bundle})")
        rows = read_rows(path).get(split, [])
        tables.append(({(row["film"], row["kind"], row["severity"]): row for row in rows}, columns))
    first, _ = tables[0]
    joined = []
    for key, row in first.items():
        if all(key in table for table, _ in tables):
            merged = dict(row)
            for table, columns in tables:
                merged.update({name: float(table[key][name]) for name in columns})
            joined.append(merged)
    return joined


def main() -> None:
    """Print the AUROC of the score's features with each combination of candidates, fitted per film left out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", choices=("unet", "pix2pix"), required=True)
    parser.add_argument("--results", type=Path, default=Path("docs/results"))
    args = parser.parse_args()
    rows = joined_rows(args.results, args.bundle)
    features = CANDIDATE_FEATURE_SETS["0.8.0"]
    print(f"{len(rows)} validation rows, {sum(row['lungs'] < 0.90 for row in rows)} below 0.90")
    print(f"{features} per film left out: {leave_one_film_out_auroc(rows, features)}")
    for combination in COMBINATIONS:
        print(f"+ {' + '.join(combination)}: {leave_one_film_out_auroc(rows, (*features, *combination))}")


if __name__ == "__main__":
    main()
