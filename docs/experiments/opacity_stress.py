"""Opacity stress benchmark: Dice of a bundle on its validation and test films with painted opacities.

Every film of the split gets each kind of :mod:`lungseg_monai.transforms.opacity` at severities 1-4 (0 is the clean
film); the reference masks stay as drawn (the anatomical lungs are still under the opacity). Scored as the bundle's
``evaluate.json`` scores (original resolution, its own post-processing): lungs in both conventions, each lung, the
cardiomediastinum. The films listed in ``data_manifests/dense_opacity_films.csv`` are a subset row of the clean
films. The scoring is the package's (:class:`lungseg_monai.handlers.OpacityStressBenchmark`, which
``evaluate.json --opacity_stress true`` runs into the evaluation report); this script adds, per row, every quality
score feature (``docs/experiments/quality_score_fit.py`` fits the score on them, scores it and compares other
feature sets) and whether the second network's structures were used (0.8.0). Writes
``<output>/opacity_stress_<bundle>.json`` and ``.csv``; ``--figure`` draws the robustness curves:

    python docs/experiments/opacity_stress.py --bundle unet --output docs/results
    python docs/experiments/opacity_stress.py --figure docs/results/opacity_stress.png --output docs/results

``--override`` scores a variant of the bundle's config (``--override 'second_opinion_average=false'``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from monai.bundle import ConfigParser

from lungseg_monai.data.atomic_writes import write_csv, write_json
from lungseg_monai.handlers import OpacityStressBenchmark
from lungseg_monai.handlers.opacity_stress import dense_opacity_films
from lungseg_monai.networks import init_from_checkpoint
from lungseg_monai.paths import repo_path
from lungseg_monai.reports.opacity_stress import BASE_SHORTFALL, STRESS_SCORED, stress_summary
from lungseg_monai.transforms.opacity import OPACITY_KINDS, SEVERITIES
from lungseg_monai.transforms.predicted_dice import QUALITY_FEATURES
from lungseg_monai.workflows import bundle_workflow

DENSE_OPACITY_LIST = Path(repo_path("data_manifests", "dense_opacity_films.csv"))


def scores(
    bundle: str,
    split: str,
    dataset_dir: str,
    overrides: dict | None = None,
    per_row_for: Callable[[ConfigParser], Callable[..., dict]] | None = None,
) -> list[dict]:
    """Return one row per film, kind and severity (clean: severity 0), scored as ``evaluate.json`` scores.

    ``per_row_for``: given the bundle's parsed config, the benchmark's ``per_row`` (an experiment's more columns).
    """
    # every feature in the rows (the shipped score writes those it weighs), for quality_score_fit.py to compare
    overrides = {"quality_score#features": list(QUALITY_FEATURES), **(overrides or {})}
    workflow = bundle_workflow(bundle, "evaluate.json", "eval", dataset_dir=dataset_dir, eval_split=split, **overrides)
    parser = workflow.parser
    network = parser.get_parsed_content("network").eval()
    init_from_checkpoint(network, parser.get_parsed_content("ckpt_path"))
    benchmark = OpacityStressBenchmark(
        parser.get_parsed_content("validate#datalist"),
        parser.get_parsed_content("preprocessing"),
        parser.get_parsed_content("postprocessing"),
        dense_opacity_list=DENSE_OPACITY_LIST,
        per_row=per_row_for(parser) if per_row_for else None,
    )
    settings = [("clean", 0)] + [(kind, severity) for kind in OPACITY_KINDS for severity in SEVERITIES[1:]]
    return benchmark.rows(network, parser.get_parsed_content("inferer"), settings)


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
    parser.add_argument("--splits", nargs="+", default=["validation", "test"], help="(fit on validation first)")
    parser.add_argument(
        "--override", nargs="*", default=[], metavar="ID=JSON", help="config overrides, a JSON value each (variants)"
    )
    parser.add_argument("--figure", help="draw the robustness curves of every result in --output to this PNG")
    args = parser.parse_args()
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    if args.figure:
        _figure(output, Path(args.figure))
        return
    dense = dense_opacity_films(DENSE_OPACITY_LIST)
    result = {"bundle": args.bundle, "splits": {}}
    columns = ["split", "film", "kind", "severity", *STRESS_SCORED, BASE_SHORTFALL, "predicted_dice", "quality"]
    columns += [*QUALITY_FEATURES, "second_opinion_used"]
    written = []  # written once, whole, at the end: an interrupted run leaves the earlier files as they were
    overrides = {key: json.loads(value) for key, value in (item.split("=", 1) for item in args.override)}
    for split in args.splits:
        rows = scores(args.bundle, split, args.dataset_dir, overrides)
        written += [{name: row.get(name) for name in columns} | {"split": split} for row in rows]
        result["splits"][split] = {
            "summary": stress_summary(rows, dense),
            "films_below_0.90": sum(row["lungs"] < 0.90 for row in rows),
            "rows": len(rows),
        }
        for name, value in result["splits"][split].items():
            print(split, name, value)
    write_csv(output / f"opacity_stress_{args.bundle}.csv", written, columns)
    write_json(output / f"opacity_stress_{args.bundle}.json", result)


if __name__ == "__main__":
    main()
