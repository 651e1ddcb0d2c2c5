"""Dice per structure of a bundle's evaluation pipeline with and without flip averaging and post-processing.

Used to choose ``tta_flip`` on the validation split (never the test split):

    python docs/experiments/validation_variants.py --bundle unet --checkpoint bundles/unet/models/model.pt
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from monai.bundle import ConfigWorkflow
from monai.transforms import AsDiscreted, Compose

from lungseg_monai.inferers import FlipAveragingInferer
from lungseg_monai.networks import init_from_checkpoint
from lungseg_monai.paths import bundle_config_files, bundle_path
from lungseg_monai.reports import mask_dice
from lungseg_monai.transforms import LargestFilledComponentd
from lungseg_monai.transforms.second_opinion import one_network_postprocessing


def _index_of(compose: Compose, kind: type) -> int:
    return next(i for i, transform in enumerate(compose.transforms) if isinstance(transform, kind))


def main() -> None:
    """Print the mean Dice (original resolution, threshold 0.5) of each variant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default="unet", choices=("unet", "pix2pix"))
    parser.add_argument("--checkpoint", help="default: the bundle's models/model.pt")
    parser.add_argument("--split", default="validation")
    parser.add_argument("--dataset-dir", default="../shared/data/cxr-lung-lr")
    parser.add_argument("--threshold", type=float, default=0.5, help="probability threshold of every channel")
    parser.add_argument("--spatial-size", type=int, help="network input side, for a checkpoint trained at another size")
    args = parser.parse_args()
    overrides = {"spatial_size": [args.spatial_size] * 2} if args.spatial_size else {}
    configs = f"{bundle_path(args.bundle)}/configs"
    checkpoint = args.checkpoint or f"{bundle_path(args.bundle)}/models/model.pt"
    workflow = ConfigWorkflow(
        config_file=bundle_config_files(bundle_path(args.bundle), "evaluate.json"),
        bundle_root=bundle_path(args.bundle),
        meta_file=f"{configs}/metadata.json",
        logging_file=f"{configs}/logging.conf",
        workflow_type="eval",
        dataset_dir=args.dataset_dir,
        eval_split=args.split,
        **overrides,
    )
    workflow.initialize()
    network = workflow.parser.get_parsed_content("network").eval()
    init_from_checkpoint(network, checkpoint)
    device = next(network.parameters()).device
    dataset = workflow.parser.get_parsed_content("validate#dataset")
    postprocessing = one_network_postprocessing(workflow.parser.get_parsed_content("validate#postprocessing"))
    # The bundle's own post-processing: in full, or with a plain threshold instead of largest components + holes.
    cleanup_index = _index_of(postprocessing, LargestFilledComponentd)
    postprocessing.transforms[cleanup_index].threshold = args.threshold
    until_threshold = Compose(
        [*postprocessing.transforms[:cleanup_index], AsDiscreted(keys="pred", threshold=args.threshold)]
    )
    dice: dict[tuple[bool, bool], list[list[float]]] = {}
    flip_averaging = FlipAveragingInferer(enabled=True)  # mirrors and swaps the right- and left-lung channels
    with torch.inference_mode():
        for item in dataset:
            image, label = item["image"][None].to(device), np.asarray(item["label"]) > 0
            for flip in (False, True):
                logits = (flip_averaging(image, network) if flip else network(image))[0].cpu()
                for post in (False, True):
                    steps = postprocessing if post else until_threshold
                    pred = np.asarray(steps({**item, "pred": logits})["pred"]) > 0
                    dice.setdefault((flip, post), []).append(
                        [
                            mask_dice(pred[0] | pred[1], label[0] | label[1]),
                            mask_dice(pred[0], label[0]),
                            mask_dice(pred[1], label[1]),
                            mask_dice(pred[2], label[2]),
                        ]
                    )
    for (flip, post), values in dice.items():
        lungs, right, left, heart = np.mean(values, axis=0)
        print(
            f"flip averaging {flip!s:5}  largest components + fill holes {post!s:5}  Dice: lungs {lungs:.4f}  "
            f"right {right:.4f}  left {left:.4f}  cardiomediastinum {heart:.4f}"
        )


if __name__ == "__main__":
    main()
