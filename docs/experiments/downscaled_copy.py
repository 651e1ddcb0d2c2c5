"""Copy the training and validation cases of cxr-lung-lr, downscaled to at most 1024 px, for a device machine.

The device machine of `gpu_variant_sweep.sh` takes at most 64 MiB of working tree; the full dataset (46 MB) and the
tracked files do not fit together. Images are box-filtered (as ``Resized(mode="area")`` does), masks resized
nearest-neighbour to the same grid; the test split is not copied.

    python docs/experiments/downscaled_copy.py .devdata/cxr-lung-lr
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from PIL import Image

MASK_KEYS = ("right_mask", "left_mask", "heart_mask", "second_reader")


def main() -> None:
    """Write the downscaled copy; the folder name must stay ``cxr-lung-lr`` so that its manifest is found."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("destination", type=Path)
    parser.add_argument("--source", type=Path, default=Path("../shared/data/cxr-lung-lr"))
    parser.add_argument("--max-side", type=int, default=1024)
    args = parser.parse_args()
    manifest = json.loads(Path("data_manifests/cxr-lung-lr.json").read_text())
    for item in manifest["training"] + manifest["validation"]:
        image = Image.open(args.source / item["image"])
        scale = min(1.0, args.max_side / max(image.size))
        size = (round(image.width * scale), round(image.height * scale))
        if image.mode not in ("L", "I;16", "I"):
            image = image.convert("L")
        target = args.destination / item["image"]
        target.parent.mkdir(parents=True, exist_ok=True)
        image = image.resize(size, Image.Resampling.BOX) if scale < 1 else image
        image.save(target, **({"quality": 95} if target.suffix.lower() in (".jpg", ".jpeg") else {"optimize": True}))
        for key in MASK_KEYS:
            if key in item:
                mask = Image.open(args.source / item[key]).convert("L")
                target = args.destination / item[key]
                target.parent.mkdir(parents=True, exist_ok=True)
                (mask.resize(size, Image.Resampling.NEAREST) if mask.size != size else mask).save(target)


if __name__ == "__main__":
    main()
