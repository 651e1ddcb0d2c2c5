"""The ragged-lung-base check (issue #30): how notched drawn lung bases are, and what the check marks.

``PredictedDiced(ragged_base_above=...)`` marks a film ``check`` (flag ``ragged_lung_base``) when the worse lung's
:func:`~lungseg_monai.transforms.predicted_dice.base_notch` is above the threshold. This script gives the figures
the threshold was chosen on, and what it does:

- the base notch of every lung drawn for a training patient, on its film's 256 px network grid: the ``cxr-lung-lr``
  training split (the bundles' annotators) and ``lung-shapes-v7`` (another community's, its validation and test
  patients left out);
- per bundle and split, from ``opacity_stress_<bundle>.csv`` (``opacity_stress.py``: every clean and painted film
  with its ``worse_lung_base_notch``): the most notched clean film the rest of the quality check passes, the rows
  the check marks that the score and the second opinion leave ``ok`` (with their lung Dice), and the quality
  outcomes with and without it (films below 0.85 left ``ok``, below 0.90 found, at or above 0.90 marked ``check``).

Writes ``<output>/lung_base_notch.json``:

    python docs/experiments/lung_base_notch.py --output docs/results
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np
from PIL import Image

from lungseg_monai.data.atomic_writes import write_json
from lungseg_monai.paths import bundle_path, repo_path
from lungseg_monai.transforms.lung_split import split_lungs
from lungseg_monai.transforms.predicted_dice import base_notch

#: The network grid the bundles' quality features are computed on.
GRID = (256, 256)


def _on_grid(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L").resize(GRID, Image.BILINEAR)) > 127


def drawn_lung_notches(dataset_dir: Path, shapes_dir: Path, manifest: dict) -> dict[str, list[float]]:
    """Return the base notch of each lung drawn for a training patient, per source."""
    held_back = {str(e["patient_id"]) for split in ("validation", "test") for e in manifest[split]}
    cxr = [
        base_notch(_on_grid(dataset_dir / entry[side]))
        for entry in manifest["training"]
        for side in ("right_mask", "left_mask")
    ]
    shapes = []
    with (shapes_dir / "masks.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["patientid"] in held_back:
                continue
            lungs = split_lungs(_on_grid(shapes_dir / "masks" / f"{row['source_filename']}.png"))
            largest = max(int(lung.sum()) for lung in lungs)
            # a one-piece drawing's second "lung" is a speck, or nothing: not a lung
            shapes += [base_notch(lung) for lung in lungs if lung.sum() > 0.05 * largest]
    return {"cxr-lung-lr training split": cxr, "lung-shapes-v7 training patients": shapes}


def _spread(values: list[float]) -> dict[str, float]:
    quantiles = np.percentile(values, [50, 95, 99, 100])
    return {
        "lungs": len(values),
        **{k: round(float(v), 4) for k, v in zip(("median", "p95", "p99", "max"), quantiles, strict=True)},
    }


def _outcomes(rows: list[dict], checked: list[bool]) -> dict[str, object]:
    dice = np.array([float(r["lungs"]) for r in rows])
    check = np.array(checked)
    clean = np.array([r["kind"] == "clean" for r in rows])
    return {
        "below_0.85_left_ok": int(np.sum((dice < 0.85) & ~check)),
        "below_0.90_marked_check": f"{int(np.sum((dice < 0.90) & check))} of {int(np.sum(dice < 0.90))}",
        "at_least_0.90_marked_check": f"{int(np.sum((dice >= 0.90) & check))} of {int(np.sum(dice >= 0.90))}",
        "clean_marked_check": f"{int(np.sum(clean & check))} of {int(clean.sum())}",
    }


def check_outcomes(rows: list[dict], check_below: float, ragged_above: float) -> dict[str, object]:
    """Return what the check adds to the score and the second opinion on one bundle's rows of one split."""

    def passed(row: dict) -> bool:  # the rest of the quality check leaves it ok
        return float(row["predicted_dice"]) >= check_below and row["second_opinion_used"] != "True"

    notch = [float(r["worse_lung_base_notch"]) for r in rows]
    ragged = [n > ragged_above for n in notch]
    clean_passed = [n for r, n in zip(rows, notch, strict=True) if r["kind"] == "clean" and passed(r)]
    added = [
        {"film": r["film"], "kind": r["kind"], "severity": int(r["severity"]), "lungs": float(r["lungs"]), "notch": n}
        for r, n, flag in zip(rows, notch, ragged, strict=True)
        if flag and passed(r)
    ]
    return {
        "rows": len(rows),
        "most_notched_clean_film_passed": round(max(clean_passed), 4) if clean_passed else None,
        "rows_marked": int(sum(ragged)),
        "rows_only_this_check_marks": added,
        "without_the_check": _outcomes(rows, [not passed(r) for r in rows]),
        "with_the_check": _outcomes(rows, [not passed(r) or flag for r, flag in zip(rows, ragged, strict=True)]),
    }


def main() -> None:
    """Measure the drawn lungs, then what each bundle's check marks on its stress rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset-dir", default="../shared/data/cxr-lung-lr")
    parser.add_argument("--shapes-dir", default="../shared/data/lung-shapes-v7")
    parser.add_argument("--output", default="docs/results")
    args = parser.parse_args()
    output = Path(args.output)
    for bundle in ("unet", "pix2pix"):
        if not (output / f"opacity_stress_{bundle}.csv").is_file():
            parser.error(
                f"{output / f'opacity_stress_{bundle}.csv'} not found: run opacity_stress.py --bundle {bundle} first"
            )
    manifest = json.loads(Path(repo_path("data_manifests", "cxr-lung-lr.json")).read_text())
    drawn = drawn_lung_notches(Path(args.dataset_dir), Path(args.shapes_dir), manifest)
    result: dict[str, object] = {
        "drawn_lungs": {source: _spread(values) for source, values in drawn.items()},
        "drawn_lungs_together": _spread([v for values in drawn.values() for v in values]),
        "bundles": {},
    }
    for bundle in ("unet", "pix2pix"):
        score = json.loads((Path(bundle_path(bundle)) / "configs" / "train.json").read_text())["quality_score"]
        with (output / f"opacity_stress_{bundle}.csv").open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        result["bundles"][bundle] = {  # type: ignore[index]
            "ragged_base_above": score["ragged_base_above"],
            "check_below": score["check_below"],
            "splits": {
                split: check_outcomes(
                    [r for r in rows if r["split"] == split], score["check_below"], score["ragged_base_above"]
                )
                for split in dict.fromkeys(r["split"] for r in rows)
            },
        }
    write_json(output / "lung_base_notch.json", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
