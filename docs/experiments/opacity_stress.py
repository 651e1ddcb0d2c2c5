"""Opacity stress benchmark: Dice of a bundle on its validation and test films with painted opacities.

Every film of the split gets each kind of :mod:`lungseg_monai.transforms.opacity` at severities 1-4 (0 is the clean
film); the reference masks stay as drawn (the anatomical lungs are still under the opacity). Scored as the bundle's
``evaluate.json`` scores (original resolution, its own post-processing): lungs in both conventions, each lung, the
cardiomediastinum. The films listed in ``data_manifests/dense_opacity_films.csv`` are a subset row of the clean
films. Writes ``<output>/opacity_stress_<bundle>.json`` and ``.csv``; ``--figure`` draws the robustness curves:

    python docs/experiments/opacity_stress.py --bundle unet --output docs/results
    python docs/experiments/opacity_stress.py --figure docs/results/opacity_stress.png --output docs/results
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np
import torch
from monai.data import Dataset
from monai.metrics import compute_roc_auc
from monai.transforms import Compose

from lungseg_monai.networks import init_from_checkpoint
from lungseg_monai.paths import repo_path
from lungseg_monai.reports import mask_dice
from lungseg_monai.transforms import EVALUATION_CHANNELS, StackStructureMasksd
from lungseg_monai.transforms.opacity import OPACITY_KINDS, SEVERITIES, PaintOpacityd
from lungseg_monai.workflows import bundle_workflow

DENSE_OPACITY_LIST = Path(repo_path("data_manifests", "dense_opacity_films.csv"))
SCORED = ("lungs", "visible_lungs", "cardiomediastinum")


def _painted(preprocessing: Compose, kind: str, severity: int) -> Compose:
    """``preprocessing`` with the opacity painted right after the structures are stacked (before normalisation)."""
    steps = list(preprocessing.transforms)
    after = next(i for i, step in enumerate(steps) if isinstance(step, StackStructureMasksd)) + 1
    return Compose([*steps[:after], PaintOpacityd("image", kind=kind, severity=severity), *steps[after:]])


def _scores(bundle: str, split: str, dataset_dir: str) -> list[dict]:
    """Return one row per film, kind and severity: {film, kind, severity, lungs, visible_lungs, cardiomediastinum}."""
    workflow = bundle_workflow(bundle, "evaluate.json", "eval", dataset_dir=dataset_dir, eval_split=split)
    parser = workflow.parser
    network = parser.get_parsed_content("network").eval()
    init_from_checkpoint(network, parser.get_parsed_content("ckpt_path"))
    inferer, postprocessing = parser.get_parsed_content("inferer"), parser.get_parsed_content("postprocessing")
    datalist, preprocessing = parser.get_parsed_content("validate#datalist"), parser.get_parsed_content("preprocessing")
    settings = [("clean", 0)] + [(kind, severity) for kind in OPACITY_KINDS for severity in SEVERITIES[1:]]
    rows = []
    with torch.inference_mode():
        for kind, severity in settings:
            for item in Dataset(datalist, _painted(preprocessing, kind if severity else OPACITY_KINDS[0], severity)):
                image = item["image"][None]
                pred = inferer(image, network)[0]
                scored = postprocessing({**item, "pred": pred})
                pred_eval, label_eval = np.asarray(scored["pred_eval"]) > 0, np.asarray(scored["label_eval"]) > 0
                row = {"film": Path(item["image"].meta["filename_or_obj"]).name, "kind": kind, "severity": severity}
                for channel in SCORED:
                    index = EVALUATION_CHANNELS.index(channel)
                    row[channel] = round(mask_dice(pred_eval[index], label_eval[index]), 4)
                row["flip_agreement"] = _flip_agreement(image, pred, network)
                rows.append(row)
    return rows


def _flip_agreement(image: torch.Tensor, averaged: torch.Tensor, network: torch.nn.Module) -> float:
    """Dice of the lungs of the plain pass and of the mirrored pass (a candidate quality score, issue #30 part 3).

    The flip-averaged output is the mean of the two passes, so the mirrored one is ``2 * averaged - plain``.
    """
    plain = network(image)[0]
    mirrored = 2 * averaged - plain
    lungs = [np.asarray((output[:2] > 0).any(dim=0)) for output in (plain, mirrored)]
    return round(mask_dice(*lungs), 4)


def _failure_auroc(rows: list[dict], below: float = 0.90) -> float | None:
    """AUROC of ``1 - flip_agreement`` for finding the rows whose lung Dice is below ``below``."""
    failed = torch.tensor([float(row["lungs"] < below) for row in rows])
    if failed.sum() in (0, len(rows)):
        return None
    score = torch.tensor([1.0 - row["flip_agreement"] for row in rows])
    return round(float(compute_roc_auc(score, failed)), 4)


def _dense_opacity_films() -> set[str]:
    with DENSE_OPACITY_LIST.open() as handle:
        return {row["film"] for row in csv.DictReader(handle)}


def _summary(rows: list[dict], dense: set[str]) -> list[dict]:
    """Mean Dice per kind and severity (the clean films once), and the clean dense-opacity films as a subset row."""
    groups: dict[tuple[str, int], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["kind"], row["severity"]), []).append(row)
    clean = groups[("clean", 0)]
    groups[("real dense opacity (clean films listed)", 0)] = [row for row in clean if row["film"] in dense]
    summary = []
    for (kind, severity), members in groups.items():
        entry = {"kind": kind, "severity": severity, "films": len(members)}
        for channel in SCORED:
            values = [row[channel] for row in members]
            entry[channel] = round(float(np.mean(values)), 4) if values else None
            entry[f"{channel}_min"] = round(float(np.min(values)), 4) if values else None
        summary.append(entry)
    return summary


def _figure(output: Path, figure: Path) -> None:
    """Draw lung Dice (anatomical) against severity, one line per kind, a panel per bundle and split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = {p.stem.split("_")[-1]: json.loads(p.read_text()) for p in sorted(output.glob("opacity_stress_*.json"))}
    fig, axes = plt.subplots(1, 2 * len(results), figsize=(5 * 2 * len(results), 4), sharey=True, squeeze=False)
    panels = [(bundle, split) for bundle in results for split in ("validation", "test")]
    for axis, (bundle, split) in zip(axes[0], panels, strict=True):
        summary = results[bundle]["splits"][split]["summary"]
        clean = next(e["lungs"] for e in summary if e["kind"] == "clean")
        for kind in OPACITY_KINDS:
            by_severity = {e["severity"]: e["lungs"] for e in summary if e["kind"] == kind}
            axis.plot(SEVERITIES, [clean] + [by_severity[s] for s in SEVERITIES[1:]], marker="o", label=kind)
        axis.axhline(0.93, color="grey", linestyle=":", linewidth=1)
        axis.set_title(f"{bundle}, {split}")
        axis.set_xlabel("severity (3: about half of each lung base)")
        axis.set_xticks(SEVERITIES)
    axes[0][0].set_ylabel("lung Dice (anatomical)")
    axes[0][0].legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(figure, dpi=100)


def main() -> None:
    """Score a bundle on both splits (or draw the figure from results already written)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", choices=("unet", "pix2pix"))
    parser.add_argument("--dataset-dir", default="../shared/data/cxr-lung-lr")
    parser.add_argument("--output", default="docs/results")
    parser.add_argument("--figure", help="draw the robustness curves of every result in --output to this PNG")
    args = parser.parse_args()
    output = Path(args.output)
    if args.figure:
        _figure(output, Path(args.figure))
        return
    dense = _dense_opacity_films()
    result = {"bundle": args.bundle, "splits": {}}
    with (output / f"opacity_stress_{args.bundle}.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["split", "film", "kind", "severity", *SCORED, "flip_agreement"])
        writer.writeheader()
        for split in ("validation", "test"):
            rows = _scores(args.bundle, split, args.dataset_dir)
            writer.writerows({"split": split, **row} for row in rows)
            result["splits"][split] = {
                "summary": _summary(rows, dense),
                "flip_agreement_auroc_for_lung_dice_below_0.90": _failure_auroc(rows),
                "films_below_0.90": sum(row["lungs"] < 0.90 for row in rows),
                "rows": len(rows),
            }
            for name, value in result["splits"][split].items():
                print(split, name, value)
    (output / f"opacity_stress_{args.bundle}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
