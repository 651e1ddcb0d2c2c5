"""How well the thorax's width, or the other lung, tells where a lung's base belongs (issue #30, a shape prior).

Under a dense basal opacity the network stops a lung at the opacity; a prior that "knows where the base belongs"
must predict the lung's height from what stays visible. Two candidates, measured on masks alone:

- the thoracic width S (the lateral span of both lungs in the upper band, apex to apex + 0.3 S): height = k S;
- the other lung (a unilateral opacity leaves one lung whole): left height = a * right height + b.

For each, the relative error of the predicted height, |predicted - true| / true: a prior can only tell a cut
lung from a short one when the cut is well beyond that error. Masks: lung-shapes-v7 (348, both lungs in one mask;
the patients of our validation and test splits left out) and the training split of cxr-lung-lr (left and right
masks). Not a test:

    python docs/experiments/lung_height_prior.py
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"


def _two_lungs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Return the two largest pieces of a both-lungs mask, image-left (the patient's right lung) first."""
    labels, count = ndimage.label(mask)
    if count < 2:
        return None
    sizes = ndimage.sum(mask, labels, range(1, count + 1))
    pieces = [labels == index + 1 for index in np.argsort(sizes)[::-1][:2]]
    return tuple(sorted(pieces, key=lambda piece: np.nonzero(piece)[1].mean()))  # type: ignore[return-value]


def _measures(right: np.ndarray, left: np.ndarray) -> dict[str, float]:
    both = right | left
    rows = np.nonzero(both.any(axis=1))[0]
    columns = np.nonzero(both.any(axis=0))[0]
    apex, full_span = rows[0], columns[-1] - columns[0]
    band = both[apex : int(apex + 0.3 * full_span)]
    band_columns = np.nonzero(band.any(axis=0))[0]
    span = float(band_columns[-1] - band_columns[0])
    height = lambda lung: float(np.ptp(np.nonzero(lung.any(axis=1))[0]))  # noqa: E731
    return {"span": span, "right": height(right), "left": height(left)}


def _held_back_patients() -> set[str]:
    manifest = json.loads((REPO / "data_manifests" / "cxr-lung-lr.json").read_text())
    return {case["patient_id"] for split in ("validation", "test") for case in manifest[split]}


def shapes_v7_lungs() -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield the two lungs (image-left first) of every lung-shapes-v7 mask with two, held-back patients left out."""
    folder, held_back = SHARED / "lung-shapes-v7", _held_back_patients()
    with (folder / "masks.csv").open() as handle:
        for entry in csv.DictReader(handle):
            if entry["patientid"] in held_back:
                continue
            mask = np.asarray(Image.open(folder / "masks" / f"{entry['source_filename']}.png").convert("L")) > 127
            lungs = _two_lungs(mask)
            if lungs is not None:
                yield lungs


def shapes_v7() -> list[dict[str, float]]:
    """Return the measures of every lung-shapes-v7 mask with two lungs, held-back patients left out."""
    return [_measures(*lungs) for lungs in shapes_v7_lungs()]


def training_split() -> list[dict[str, float]]:
    """Return the measures of the training split's reference masks."""
    manifest = json.loads((REPO / "data_manifests" / "cxr-lung-lr.json").read_text())
    root, rows = SHARED / "cxr-lung-lr", []
    for case in manifest["training"]:
        right = np.asarray(Image.open(root / case["right_mask"]).convert("L")) > 127
        left = np.asarray(Image.open(root / case["left_mask"]).convert("L")) > 127
        rows.append(_measures(right, left))
    return rows


def _errors(rows: list[dict[str, float]]) -> dict[str, float]:
    span = np.array([r["span"] for r in rows])
    right, left = np.array([r["right"] for r in rows]), np.array([r["left"] for r in rows])
    errors = {}
    for name, height in (("right", right), ("left", left)):
        ratio = height / span
        predicted = np.median(ratio) * span
        errors[f"{name} height / width: CV"] = float(ratio.std() / ratio.mean())
        errors[f"{name} from width: median error"] = float(np.median(np.abs(predicted - height) / height))
        errors[f"{name} from width: 90th percentile"] = float(np.percentile(np.abs(predicted - height) / height, 90))
    slope, intercept = np.polyfit(right, left, 1)
    relative = np.abs(slope * right + intercept - left) / left
    errors["left from right: median error"] = float(np.median(relative))
    errors["left from right: 90th percentile"] = float(np.percentile(relative, 90))
    return errors


def main() -> None:
    """Print the errors of both predictions on both mask sets."""
    for name, rows in (("lung-shapes-v7", shapes_v7()), ("cxr-lung-lr training", training_split())):
        print(f"{name}: {len(rows)} films")
        for key, value in _errors(rows).items():
            print(f"  {key}: {value:.3f}")


if __name__ == "__main__":
    main()
