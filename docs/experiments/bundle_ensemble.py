"""Lung and cardiomediastinum Dice and CTR error of the two shipped bundles and of their average (an ensemble).

Used on the validation split (never the test split) to see whether running both networks and averaging their
outputs would be worth twice the network time:

    python docs/experiments/bundle_ensemble.py [--split validation]

Each bundle gets its own pre-processing (the U-Net reads intensities in [0, 1], the Pix2Pix generator in
[-1, 1]) and flip averaging, as its evaluation does; the averages (of logits, and of probabilities) go through the
U-Net bundle's post-processing (back to the original resolution, threshold 0.5, largest components + holes).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from monai.bundle import ConfigWorkflow

from lungseg_monai.inferers import FlipAveragingInferer
from lungseg_monai.networks import init_from_checkpoint
from lungseg_monai.paths import bundle_config_files, bundle_path
from lungseg_monai.reports import mask_dice
from lungseg_monai.transforms import cardiothoracic_ratio
from lungseg_monai.transforms.second_opinion import one_network_postprocessing

BUNDLES = ("unet", "pix2pix")


def evaluation_workflow(bundle: str, split: str, dataset_dir: str) -> tuple[ConfigWorkflow, torch.nn.Module]:
    """Return the bundle's evaluation workflow and its network with the shipped weights."""
    configs = f"{bundle_path(bundle)}/configs"
    workflow = ConfigWorkflow(
        config_file=bundle_config_files(bundle_path(bundle), "evaluate.json"),
        bundle_root=bundle_path(bundle),
        meta_file=f"{configs}/metadata.json",
        logging_file=f"{configs}/logging.conf",
        workflow_type="eval",
        dataset_dir=dataset_dir,
        eval_split=split,
    )
    workflow.initialize()
    network = workflow.parser.get_parsed_content("network").eval()
    init_from_checkpoint(network, f"{bundle_path(bundle)}/models/model.pt")
    return workflow, network


def scores(pred: np.ndarray, label: np.ndarray) -> list[float]:
    """Both-lung Dice, cardiomediastinum Dice and absolute CTR error of one case's 3-channel masks."""
    ctr_pred = cardiothoracic_ratio(pred[0], pred[1], pred[2]).ratio
    ctr_truth = cardiothoracic_ratio(label[0], label[1], label[2]).ratio
    error = abs(ctr_pred - ctr_truth) if ctr_pred is not None and ctr_truth is not None else float("nan")
    return [mask_dice(pred[0] | pred[1], label[0] | label[1]), mask_dice(pred[2], label[2]), error]


def main() -> None:
    """Print the mean of each score for each bundle and each average."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="validation")
    parser.add_argument("--dataset-dir", default="../shared/data/cxr-lung-lr")
    args = parser.parse_args()
    workflows = {bundle: evaluation_workflow(bundle, args.split, args.dataset_dir) for bundle in BUNDLES}
    datasets = [workflow.parser.get_parsed_content("validate#dataset") for workflow, _ in workflows.values()]
    postprocessing = one_network_postprocessing(
        workflows["unet"][0].parser.get_parsed_content("validate#postprocessing")
    )
    flip_averaging = FlipAveragingInferer(enabled=True)
    results: dict[str, list[list[float]]] = {}
    with torch.inference_mode():
        for items in zip(*datasets, strict=True):
            logits = {
                bundle: flip_averaging(item["image"][None], network)[0]
                for item, (bundle, (_, network)) in zip(items, workflows.items(), strict=True)
            }
            mean_prob = (torch.sigmoid(logits["unet"]) + torch.sigmoid(logits["pix2pix"])) / 2
            variants = {
                **logits,
                "average of logits": (logits["unet"] + logits["pix2pix"]) / 2,
                "average of probabilities": torch.logit(mean_prob.clamp(1e-6, 1 - 1e-6)),
            }
            label = np.asarray(items[0]["label"]) > 0
            for name, values in variants.items():
                pred = np.asarray(postprocessing({**items[0], "pred": values})["pred"]) > 0
                results.setdefault(name, []).append(scores(pred, label))
    for name, values in results.items():
        lungs, heart, ctr_error = np.nanmean(values, axis=0)
        print(
            f"{args.split} {name:25s} lungs {lungs:.4f}  cardiomediastinum {heart:.4f}  "
            f"CTR mean abs error {ctr_error:.4f}"
        )


if __name__ == "__main__":
    main()
