"""Compare the masks and quality flags of two folder runs (``lungseg`` output folders) image by image.

Usage (the 0.4.0 float16 weights against the 0.3.0 float32 ones on the shared DICOM folder):
    git show 97ad078:bundles/unet/models/model.pt > /tmp/unet-0.3.0.pt
    python -m monai.bundle run \
        --config_file "['bundles/unet/configs/train.json','bundles/unet/configs/inference.json']" \
        --bundle_root bundles/unet --ckpt_path /tmp/unet-0.3.0.pt --input_dir ../shared/data/dicom --output_dir /tmp/a
    lungseg --bundle unet --input-dir ../shared/data/dicom --output-dir /tmp/b
    python docs/experiments/compare_folder_runs.py /tmp/a /tmp/b
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image


def main() -> None:
    """Print Dice and whether the flags agree for every mask of the first folder; then the worst Dice."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    args = parser.parse_args()
    worst = 1.0
    for mask_file in sorted(args.first.rglob("*.mask.png")):
        rel = mask_file.relative_to(args.first)
        a = np.asarray(Image.open(mask_file)) > 0
        b = np.asarray(Image.open(args.second / rel)) > 0
        dice = 2 * np.sum(a & b) / (a.sum() + b.sum())
        worst = min(worst, dice)
        record = str(rel).removesuffix(".mask.png") + ".json"
        flags = [json.loads((folder / record).read_text())["flags"] for folder in (args.first, args.second)]
        print(f"{str(rel):80s} Dice {dice:.5f}  flags {'same' if flags[0] == flags[1] else flags}")
    print(f"worst Dice {worst:.5f}")


if __name__ == "__main__":
    main()
