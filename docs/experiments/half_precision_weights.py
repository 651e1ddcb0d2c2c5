r"""Store a bundle's weights in float16 (how the 0.4.0 ``model.pt`` files were made from the 0.3.0 ones).

Usage:
    git show 97ad078:bundles/unet/models/model.pt > /tmp/unet-0.3.0.pt
    python docs/experiments/half_precision_weights.py /tmp/unet-0.3.0.pt bundles/unet/models/model.pt

Floating-point tensors become float16 (integer buffers such as BatchNorm's counters stay), halving the file;
networks load them into float32 as before. Prints the largest relative change of any tensor. Then check on the
validation split before anything else (the 0.4.0 check):
    python -m monai.bundle run \
        --config_file "['bundles/unet/configs/train.json','bundles/unet/configs/evaluate.json']" \
        --bundle_root bundles/unet --dataset_dir ../shared/data/cxr-lung-lr --eval_split validation \
        --ckpt_path <weights> --output_dir <folder>
and update the SHA-256 in the bundle's large_files.yml.
"""

from __future__ import annotations

import argparse

import torch


def main() -> None:
    """Convert ``source`` to float16 and save it as ``target``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("target")
    args = parser.parse_args()
    state = torch.load(args.source, map_location="cpu", weights_only=True)
    half = {name: value.half() if value.is_floating_point() else value for name, value in state.items()}
    change = max(
        ((half[name].float() - value).abs().max() / (value.abs().max() + 1e-12)).item()
        for name, value in state.items()
        if value.is_floating_point()
    )
    torch.save(half, args.target)
    print(f"{args.target}: largest relative change of a tensor {change:.2e}")


if __name__ == "__main__":
    main()
