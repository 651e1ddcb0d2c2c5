"""Fit a bundle's quality score (predicted lung Dice) on the validation rows of its opacity stress benchmark.

Reads ``opacity_stress_<bundle>.csv`` (``opacity_stress.py``: every validation and test film, clean and with each
painted opacity, with the quality features of :mod:`lungseg_monai.transforms.predicted_dice`), fits the lung Dice
by least squares on the validation rows (on :data:`SCORED_FEATURES`), chooses ``check_below`` on them (since 0.8.0
the highest threshold that marks at most 10% of the clean validation films ``check``: the films whose structures
come from the second network are flagged anyway, and the largest Youden index, sensitivity + specificity - 1, for
finding a lung Dice below 0.90, chosen until 0.7, marked 2 to 5 of the 14 clean films; it and the lowest threshold
that marks no film below 0.85 ``ok`` are scored beside it), and scores the model once on the test rows. Written
beside: each feature's own AUROC (low soft Dice or confidence, high asymmetry or irregularity means failure), and
each of :data:`CANDIDATE_FEATURE_SETS` fitted on validation, its AUROC in-sample, per validation film left out,
and on test.
Prints the ``quality_score`` values for the bundle's ``train.json`` and writes ``quality_score_<bundle>.json`` and
the plot of predicted against actual lung Dice on the test films, ``quality_score_<bundle>_test.png``:

    python docs/experiments/quality_score_fit.py --bundle unet --output docs/results
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from lungseg_monai.handlers.opacity_stress import dense_opacity_films
from lungseg_monai.paths import repo_path
from lungseg_monai.reports.figures import predicted_vs_actual_figure
from lungseg_monai.reports.statistics import quality_score_summary, rank_auroc
from lungseg_monai.transforms.predicted_dice import QUALITY_FEATURES, predicted_dice

DENSE_OPACITY_LIST = repo_path("data_manifests", "dense_opacity_films.csv")

#: The Dice below which a film counts as a failure to find.
FAILURE_BELOW = 0.90

#: Feature sets compared: 0.8.0's, and those with the worse-lung features (0.8.1, measured and not adopted: the
#: best of them on validation, 0.9311 / 0.9132 fitted and 0.9053 / 0.8533 per film left out, U-Net / Pix2Pix,
#: scored 0.8584 / 0.8142 on test against 0.8.0's 0.9095 / 0.8369).
CANDIDATE_FEATURE_SETS = {
    "0.8.0": ("soft_dice", "lung_confidence", "height_asymmetry", "lung_agreement"),
    "0.8.0 + worse lung": (
        "soft_dice",
        "lung_confidence",
        "height_asymmetry",
        "lung_agreement",
        "worse_lung_soft_dice",
        "worse_lung_irregularity",
    ),
    "0.8.0 + worse lung soft Dice": (
        "soft_dice",
        "lung_confidence",
        "height_asymmetry",
        "lung_agreement",
        "worse_lung_soft_dice",
    ),
    "agreement + worse lung": ("soft_dice", "lung_agreement", "worse_lung_soft_dice", "worse_lung_irregularity"),
}
#: The features the shipped score weighs.
SCORED_FEATURES = CANDIDATE_FEATURE_SETS["0.8.0"]
#: Features whose high values mean failure (the others: low values).
HIGH_MEANS_FAILURE = ("height_asymmetry", "worse_lung_irregularity", "worse_lung_base_notch")


def _rows(path: Path) -> dict[str, list[dict]]:
    splits: dict[str, list[dict]] = {}
    with path.open() as handle:
        for row in csv.DictReader(handle):
            values = {"lungs": float(row["lungs"]), **{name: float(row[name]) for name in QUALITY_FEATURES}}
            splits.setdefault(row["split"], []).append({**row, **values})
    return splits


def fit(rows: list[dict], features: tuple[str, ...] = SCORED_FEATURES) -> tuple[float, dict[str, float]]:
    """Return the least-squares intercept and weights of the lung Dice on ``features``."""
    design = np.array([[1.0, *(row[name] for name in features)] for row in rows])
    coefficients, *_ = np.linalg.lstsq(design, np.array([row["lungs"] for row in rows]), rcond=None)
    return round(float(coefficients[0]), 4), {
        name: round(float(c), 4) for name, c in zip(features, coefficients[1:], strict=True)
    }


def failures(rows: list[dict]) -> list[bool]:
    """Whether each row's lung Dice is below :data:`FAILURE_BELOW`."""
    return [row["lungs"] < FAILURE_BELOW for row in rows]


def failure_auroc(rows: list[dict], predicted: list[float]) -> float:
    """Return the AUROC (4 decimals) of the predicted Dice of ``rows`` for finding their failures (low = failure)."""
    return round(rank_auroc([-value for value in predicted], failures(rows)), 4)


def leave_one_film_out_auroc(rows: list[dict], features: tuple[str, ...]) -> float:
    """Return the AUROC for failures of scores each fitted without its film's rows (clean and painted alike)."""
    scores = {}
    for film in {row["film"] for row in rows}:
        intercept, weights = fit([row for row in rows if row["film"] != film], features)
        scores.update({id(row): predicted_dice(row, intercept, weights) for row in rows if row["film"] == film})
    return failure_auroc(rows, [scores[id(row)] for row in rows])


def feature_set_comparison(validation: list[dict], test: list[dict] | None) -> dict[str, dict[str, object]]:
    """Return the AUROC of each :data:`CANDIDATE_FEATURE_SETS` fitted on validation.

    In-sample, per validation film left out, and on the test rows (where given).
    """

    def auroc(rows: list[dict], intercept: float, weights: dict[str, float]) -> float:
        return failure_auroc(rows, [predicted_dice(row, intercept, weights) for row in rows])

    comparison: dict[str, dict[str, object]] = {}
    for name, features in CANDIDATE_FEATURE_SETS.items():
        intercept, weights = fit(validation, features)
        comparison[name] = {
            "features": list(features),
            "validation_auroc_fitted": auroc(validation, intercept, weights),
            "validation_auroc_leave_one_film_out": leave_one_film_out_auroc(validation, features),
            "test_auroc": auroc(test, intercept, weights) if test else None,
        }
    return comparison


def youden_threshold(scores: np.ndarray, failed: np.ndarray) -> float:
    """Return the threshold ``t`` (flag ``score < t``) of the largest sensitivity + specificity - 1."""
    candidates = np.unique(np.round(scores, 4)) + 1e-4
    youden = [np.mean(scores[failed] < t) + np.mean(scores[~failed] >= t) - 1 for t in candidates]
    return round(float(candidates[int(np.argmax(youden))]), 4)


def clean_capped_threshold(scores: np.ndarray, clean: np.ndarray, share: float = 0.10) -> float:
    """Return the highest threshold ``t`` (flag ``score < t``) that flags at most ``share`` of the clean films."""
    allowed = int(np.floor(share * clean.sum()))
    ordered = np.sort(np.round(scores[clean], 4))
    return round(float(ordered[allowed]), 4)  # flags the ``allowed`` lowest clean scores, not the next one


def outcomes(rows: list[dict], scores: np.ndarray, check_below: float) -> dict:
    """Return the AUROC, the error and the films let pass or held back at ``check_below``.

    The figures of :func:`~lungseg_monai.reports.statistics.quality_score_summary` (those of the evaluation
    report), plus the clean films held back and the threshold that would leave no film below 0.85 ``ok``.
    """
    dice = np.array([row["lungs"] for row in rows])
    check = scores < check_below
    clean = np.array([row["kind"] == "clean" for row in rows])
    scored = [
        {"dice": d, "predicted_dice": float(s), "quality": "check" if c else "ok"}
        for d, s, c in zip(dice, scores, check, strict=True)
    ]
    poor = dice < 0.85
    return {
        **quality_score_summary(scored, FAILURE_BELOW),
        "clean_marked_check": f"{int(np.sum(clean & check))} of {int(clean.sum())}",
        "threshold_for_no_ok_below_0.85": round(float(scores[poor].max()) + 1e-4, 4) if any(poor) else None,
    }


def main() -> None:
    """Fit on validation, report validation and test, write the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", choices=("unet", "pix2pix"), required=True)
    parser.add_argument("--output", default="docs/results")
    args = parser.parse_args()
    output = Path(args.output)
    splits = _rows(output / f"opacity_stress_{args.bundle}.csv")
    intercept, weights = fit(splits["validation"])

    def scores(rows: list[dict]) -> np.ndarray:
        return np.array([predicted_dice(row, intercept, weights) for row in rows])

    validation = splits["validation"]
    clean = np.array([row["kind"] == "clean" for row in validation])
    youden = youden_threshold(scores(validation), np.array(failures(validation)))
    check_below = clean_capped_threshold(scores(validation), clean)
    # The bar, no film below 0.85 marked ok, met on validation: what it costs.
    strict = outcomes(validation, scores(validation), check_below)["threshold_for_no_ok_below_0.85"] or check_below
    result = {
        "bundle": args.bundle,
        "quality_score": {"intercept": intercept, "weights": weights, "check_below": check_below},
        "threshold_rule": "the highest that marks at most 10% of the clean validation films check",
        "feature_sets": feature_set_comparison(validation, splits.get("test")),
        "single_feature_auroc": {
            split: {
                name: round(
                    rank_auroc(
                        [r[name] if name in HIGH_MEANS_FAILURE else -r[name] for r in rows],
                        failures(rows),
                    ),
                    4,
                )
                for name in QUALITY_FEATURES
            }
            for split, rows in splits.items()
        },  # fmt: skip
        "youden_threshold": youden,
        "youden_outcomes": {split: outcomes(rows, scores(rows), youden) for split, rows in splits.items()},
        "no_ok_below_0.85_threshold": strict,
        "no_ok_below_0.85_outcomes": {split: outcomes(rows, scores(rows), strict) for split, rows in splits.items()},
        "splits": {split: outcomes(rows, scores(rows), check_below) for split, rows in splits.items()},
    }
    (output / f"quality_score_{args.bundle}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if "test" not in splits:  # a validation-only run (opacity_stress.py --splits validation): no test figure
        return
    dense = dense_opacity_films(DENSE_OPACITY_LIST)
    test = splits["test"]
    groups = {
        "clean films": [r for r in test if r["kind"] == "clean"],
        "painted opacities": [r for r in test if r["kind"] != "clean"],
        "real dense opacity": [r for r in test if r["kind"] == "clean" and r["film"] in dense],
    }
    points = {name: ([r["lungs"] for r in rows], list(scores(rows))) for name, rows in groups.items()}
    (output / f"quality_score_{args.bundle}_test.png").write_bytes(predicted_vs_actual_figure(points, check_below))


if __name__ == "__main__":
    main()
