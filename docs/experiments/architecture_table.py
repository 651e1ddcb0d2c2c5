"""Issue #33's README tables, from the committed comparison pages of the full-recipe architectures.

Reads every ``comparison.json`` under ``docs/results/architectures/full_recipe/`` (``architecture_report.sh``'s
``<arch>/validation``, ``<arch>/test`` and ``<arch>/validation_with_second_opinions``; the ResNet-18's first run
wrote ``validation_comparison.json`` and ``test_comparison.json``, kept in ``flexible_unet_resnet18/first_run/``;
a network trained again has a row per run) and prints two Markdown tables: each
network alone (validation and test, mean with 95% bootstrap CI and the paired difference against the U-Net, model
facts), and each network with its own opacity-trained second opinion (validation, with the stress benchmark's
paired differences at severity 3). The pages pair every network with the same U-Net reports and seed their
bootstraps, so the U-Net's figures are the same on every page; CPU times are given beside the U-Net's of the same
run of ``benchmarks/architectures.py`` (the machine is shared, absolute times drift):

    python docs/experiments/architecture_table.py docs/results/architectures/full_recipe
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

BASELINE = "unet"
NAMES = {
    "unet": "U-Net (shipped)",
    "pix2pix": "Pix2Pix generator (shipped)",
    "flexible_unet_resnet18": "FlexibleUNet ResNet-18",
    "attention_unet": "Attention U-Net",
    "segresnet": "SegResNet",
}
SHIPPED = ("unet", "pix2pix")  # on every page, with the same figures
PAGE_FOLDERS = ("validation", "test", "validation_with_second_opinions")  # architecture_report.sh's page folders
PAINTED_KINDS = ("effusion", "consolidation", "diffuse", "whiteout")
STRESS_SEVERITY = 3


def _run_of(where: str) -> str:
    """Return the run folder of a page at ``where`` below the root: its folder, less a ``validation``-like one."""
    parts = where.split("/")[:-1]
    if parts and parts[-1] in PAGE_FOLDERS:
        parts = parts[:-1]
    return "/".join(parts)


def _pages(root: Path) -> dict[str, list[dict[str, Any]]]:
    """Return the comparison pages under ``root`` by kind (``validation``, ``test``, ``pairs``), each with its run."""
    pages: dict[str, list[dict[str, Any]]] = {"validation": [], "test": [], "pairs": []}
    for path in sorted(root.rglob("*comparison.json")):
        where = path.relative_to(root).as_posix()  # not the folders above root, whatever their names
        kind = "pairs" if "second_opinions" in where else "test" if "test" in where else "validation"
        pages[kind].append({**json.loads(path.read_text()), "run": _run_of(where)})
    return pages


def _rows(pages: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    """Return ``(model, row name, run)`` per table row, in ``NAMES`` order.

    The shipped networks are on every page with the same figures: one row over all pages (run None). Any other
    network gets a row per run folder that has it; where it has more than one (the same recipe trained again), each
    row's name says which, from the run folder's path below the network's own folder.
    """
    rows = []
    for model in NAMES:
        if model in SHIPPED:
            rows += [(model, NAMES[model], None)] if any(model in p["headline"] for p in pages) else []
            continue
        # a network's earlier runs kept in a folder below its own (first_run/) first, its latest run last
        runs = sorted({p["run"] for p in pages if model in p["headline"]}, key=lambda r: ("/" not in r, r))
        for run in runs:
            below = run.split("/", 1)[1].replace("_", " ") if "/" in run and len(runs) > 1 else ""
            rows.append((model, f"{NAMES[model]}, {below}" if below else NAMES[model], run))
    return rows


def _of_run(pages: list[dict[str, Any]], run: str | None) -> list[dict[str, Any]]:
    """Return the pages of ``run`` (all of them for None)."""
    return [p for p in pages if run is None or p["run"] == run]


def _merged(pages: list[dict[str, Any]], section: str) -> dict[str, Any]:
    """Return ``section`` of the pages merged by model (or by pair), the first page's value kept."""
    merged: dict[str, Any] = {}
    for page in pages:
        for key, value in page[section].items():
            merged.setdefault(key, value)
    return merged


def _mean_ci(entry: dict[str, Any] | None) -> str:
    if not entry:
        return ""
    low, high = entry["ci95"]
    return f"{entry['mean']:.4f} ({low:.3f}-{high:.3f})"


def _difference(entry: dict[str, Any] | None) -> str:
    if not entry:
        return ""
    low, high = entry["ci95_difference"]
    return f"{entry['mean_difference']:+.4f} ({low:+.4f} to {high:+.4f})"


def _facts(facts: dict[str, dict[str, Any]], pages: list[dict[str, Any]], model: str) -> list[str]:
    """Parameters, float16 size, CPU time beside the U-Net's of the same run, epochs, epoch and training time."""
    own = facts.get(model, {})
    baseline_ms = next((p["facts"][BASELINE]["cpu_ms_per_film"] for p in pages if model in p["facts"]), None)
    cpu = f"{own['cpu_ms_per_film']} ({baseline_ms})" if "cpu_ms_per_film" in own else ""
    if model == BASELINE:  # its time in each run
        times = sorted({p["facts"][BASELINE]["cpu_ms_per_film"] for p in pages if BASELINE in p["facts"]})
        cpu = f"{times[0]}-{times[-1]}" if len(times) > 1 else str(times[0]) if times else ""
    epochs = f"{own['best_epoch']} of {own['epochs_run']}" if "best_epoch" in own else ""
    median = f"{own['median_epoch_seconds']} s" if "median_epoch_seconds" in own else ""
    size = f"{own['parameters'] / 1e6:.2f} M" if "parameters" in own else ""
    mb = f"{own['float16_mb']} MB" if "float16_mb" in own else ""
    wall = f"{own['training_minutes']:.0f} min" if "training_minutes" in own else ""
    if own.get("training_segments", 1) > 1:
        wall += f" ({own['training_segments']} segments)"
    return [size, mb, cpu, epochs, median, wall]


def networks_alone(pages: dict[str, list[dict[str, Any]]]) -> str:
    """Return the Markdown table of each network alone, validation and test."""
    header = (
        "| network alone | parameters | float16 weights | CPU ms / film (U-Net's, same run) | best epoch of run "
        "| median epoch | training (wall) | lungs, validation | vs U-Net | cardiomediastinum, validation | vs U-Net "
        "| CTR error, validation | lungs, test | vs U-Net | cardiomediastinum, test | CTR error, test |\n"
        + "|---" * 16
        + "|\n"
    )
    rows = []
    for model, name, run in _rows(pages["validation"]):
        run_pages = {kind: _of_run(pages[kind], run) for kind in ("validation", "test")}
        validation, test = (_merged(run_pages[k], "headline") for k in ("validation", "test"))
        val_diff, test_diff = (_merged(run_pages[k], "paired_differences") for k in ("validation", "test"))
        pair = f"{model} vs {BASELINE}"
        v, t = validation[model], test.get(model, {})
        cells = [
            name,
            *_facts(_merged(run_pages["validation"], "facts"), run_pages["validation"], model),
            _mean_ci(v["dice"]),
            _difference(val_diff.get(pair, {}).get("dice")),
            f"{v['cardiomediastinum_dice']['mean']:.4f}",
            _difference(val_diff.get(pair, {}).get("cardiomediastinum_dice")),
            f"{v['ctr_abs_error']['mean']:.4f}",
            _mean_ci(t.get("dice")),
            _difference(test_diff.get(pair, {}).get("dice")),
            f"{t['cardiomediastinum_dice']['mean']:.4f}" if t else "",
            f"{t['ctr_abs_error']['mean']:.4f}" if t else "",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return header + "\n".join(rows)


def with_second_opinions(pages: dict[str, list[dict[str, Any]]]) -> str:
    """Return the Markdown table of each network with its own opacity-trained second opinion (validation)."""
    kinds = " / ".join(PAINTED_KINDS)
    header = (
        f"| network with its second opinion | lungs, validation | vs U-Net | cardiomediastinum | severity "
        f"{STRESS_SEVERITY}: {kinds} | every painted kind, severity {STRESS_SEVERITY}, vs U-Net | real dense-opacity "
        "films |\n" + "|---" * 7 + "|\n"
    )
    rows = []
    for model, name, run in _rows(pages["pairs"]):
        run_pages = _of_run(pages["pairs"], run)
        headline, differences = _merged(run_pages, "headline"), _merged(run_pages, "paired_differences")
        stress_differences = _merged(run_pages, "opacity_stress_differences")
        stress: dict[tuple[str, str, int], float] = {}
        for page in run_pages:
            for row in page["opacity_stress"]:
                stress.setdefault((row["model"], row["kind"], row["severity"]), row["lungs"])
        pair = f"{model} vs {BASELINE}"
        pooled = next(
            (
                e
                for e in stress_differences.get(pair, [])
                if e["kind"] == "every painted kind" and e["severity"] == STRESS_SEVERITY
            ),
            None,
        )
        real = next((v for (m, k, _), v in stress.items() if m == model and k.startswith("real dense")), None)
        cells = [
            name,
            _mean_ci(headline[model]["dice"]),
            _difference(differences.get(pair, {}).get("dice")),
            f"{headline[model]['cardiomediastinum_dice']['mean']:.4f}",
            " / ".join(f"{stress.get((model, k, STRESS_SEVERITY), float('nan')):.4f}" for k in PAINTED_KINDS),
            _difference(pooled),
            f"{real:.4f}" if real is not None else "",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return header + "\n".join(rows)


def main() -> None:
    """Print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="docs/results/architectures/full_recipe")
    args = parser.parse_args()
    if not args.root.is_dir():
        parser.error(f"{args.root}: no such folder")
    pages = _pages(args.root)
    print(networks_alone(pages), end="\n\n")
    print(with_second_opinions(pages))


if __name__ == "__main__":
    main()
