"""How much Dice a perfect network could keep at a given input size and label resampling.

Each ground-truth mask of the chosen split is resized to the network's grid (``nearest`` as the 0.2.0 training
config does, or ``area``, which keeps the fraction of each coarse pixel that is lung), resized back to the
original grid bilinearly and thresholded at 0.5 (as the bundles' evaluation does). The mean Dice against the
original mask is the ceiling of a network that reproduces its training target exactly:

    python docs/experiments/label_round_trip.py --split training --sizes 256 384 512
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from monai.data import load_decathlon_datalist
from monai.transforms import Compose, LoadImaged, Resized

from lungseg_monai.data import RadiographReader
from lungseg_monai.paths import manifest_for
from lungseg_monai.reports import mask_dice
from lungseg_monai.transforms import MergeLungMasksd, ResizeToMatchd


def round_trip_dice(label: torch.Tensor, size: int, mode: str) -> float:
    """Dice of ``label`` (1, H, W) after resizing to ``size`` with ``mode`` and back (bilinear, threshold 0.5)."""
    coarse = Resized(keys="pred", spatial_size=(size, size), mode=mode)({"pred": label.float()})["pred"]
    back = ResizeToMatchd(keys="pred", key_dst="label", mode="bilinear")({"pred": coarse, "label": label})["pred"]
    return mask_dice(np.asarray(back[0]) >= 0.5, np.asarray(label[0]) > 0)


def main() -> None:
    """Print the mean and worst round-trip Dice per input size and label resampling mode."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset-dir", default="../shared/data/cxr-lung-lr")
    parser.add_argument("--split", default="training")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 384, 512])
    args = parser.parse_args()
    items = load_decathlon_datalist(manifest_for(args.dataset_dir), data_list_key=args.split, base_dir=args.dataset_dir)
    load = Compose(
        [
            LoadImaged(
                ["right_mask", "left_mask"], reader=RadiographReader(), ensure_channel_first=True, image_only=True
            ),
            MergeLungMasksd(keys=["right_mask", "left_mask"], label_key="label"),
        ]
    )
    labels = [load({k: v for k, v in item.items() if k != "image"})["label"] for item in items]
    print(f"{len(labels)} masks of the {args.split} split")
    for size in args.sizes:
        for mode in ("nearest", "area"):
            dice = np.array([round_trip_dice(label, size, mode) for label in labels])
            print(f"{size:4d} px  {mode:7s}  mean Dice {dice.mean():.4f}  worst {dice.min():.4f}")


if __name__ == "__main__":
    main()
