"""Ranges of the anatomy measures on the radiologists' masks, which the quality-flag bounds are set outside of.

Usage (from the repository root):
    python docs/experiments/reference_anatomy.py [--dataset-dir ../shared/data/cxr-lung-lr]

For every case of ``data_manifests/cxr-lung-lr.json`` (all splits): the share of the image both lungs cover, each
lung's solidity (area over convex-hull area), the heart's position between the lungs' centres (0 right lung, 1 left
lung), cardiomediastinum area over lung area, and the cardiothoracic ratio. Prints min, 5th, 50th, 95th percentile
and max of each, and the share of the lung area that lies inside the cardiomediastinum (anatomical lungs).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from lungseg_monai.data.radiograph_io import read_radiograph
from lungseg_monai.inference.lung_measures import solidity
from lungseg_monai.transforms.cardiothoracic import cardiothoracic_ratio
from lungseg_monai.transforms.lung_split import centre_column

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    """Print the ranges."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset-dir", default="../shared/data/cxr-lung-lr")
    args = parser.parse_args()
    root = Path(args.dataset_dir)
    manifest = json.loads((REPO / "data_manifests" / "cxr-lung-lr.json").read_text())
    measures: dict[str, list[float]] = {}
    for case in (c for split in ("training", "validation", "test") for c in manifest[split]):
        right, left, heart = (read_radiograph(root / case[k])[0] > 0 for k in ("right_mask", "left_mask", "heart_mask"))
        lungs = right | left
        right_c, left_c, heart_c = (centre_column(m) for m in (right, left, heart))
        values = {
            "lung share of the image": lungs.mean(),
            "lung solidity (each lung)": [solidity(right), solidity(left)],
            "heart position between the lungs": (heart_c - right_c) / (left_c - right_c),
            "cardiomediastinum / lung area": heart.sum() / lungs.sum(),
            "cardiothoracic ratio": cardiothoracic_ratio(right, left, heart).ratio,
            "lung area inside the cardiomediastinum": (lungs & heart).sum() / lungs.sum(),
        }
        for name, value in values.items():
            measures.setdefault(name, []).extend(value if isinstance(value, list) else [value])
    print(f"{len(manifest['training']) + len(manifest['validation']) + len(manifest['test'])} cases")
    for name, values in measures.items():
        low, p5, median, p95, high = np.percentile(values, [0, 5, 50, 95, 100])
        print(f"{name:40s} min {low:.3f}  p5 {p5:.3f}  median {median:.3f}  p95 {p95:.3f}  max {high:.3f}")


if __name__ == "__main__":
    main()
