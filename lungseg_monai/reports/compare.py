"""``lungseg-compare``: evaluate several bundles on the same split and compare them case by case.

Example:
    ``lungseg-compare --bundles unet pix2pix --dataset-dir ../shared/data/cxr-lung-lr --output reports/compare``

"""

from __future__ import annotations

import argparse
import csv
import html
import itertools
import json
import logging
import math
from pathlib import Path
from typing import Any

from lungseg_monai.data.atomic_writes import write_atomic, write_csv, write_json
from lungseg_monai.reports.figures import paired_figure
from lungseg_monai.reports.html_report import image_tag, page, sortable_table
from lungseg_monai.reports.statistics import paired_comparison

__all__ = ["compare_reports", "evaluate_bundle", "main"]

logger = logging.getLogger(__name__)


def _per_case(report_dir: Path) -> dict[str, dict[str, float]]:
    with open(report_dir / "per_case.csv", newline="") as handle:
        return {row["case"]: {k: float(v) for k, v in row.items() if k != "case"} for row in csv.DictReader(handle)}


def _mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


def _comparison_page(record: dict[str, Any], figures: dict[str, bytes], rows: list[dict[str, Any]]) -> str:
    """Return the comparison as one self-contained HTML page: means per model, paired tests, plots, cases."""
    models = list(record["means"])
    means = [{"metric": m, **{n: record["means"][n][m] for n in models}} for m in record["metrics"]]
    tests = [{"pair": pair, **stats} for pair, stats in record["paired_tests"].items()]
    body = (
        f"<p>{record['cases']} cases; paired tests on <b>{html.escape(record['metric'])}</b>.</p>"
        f"<h2>Mean per model</h2>{sortable_table(means)}<h2>Paired tests</h2>{sortable_table(tests)}"
        + "".join(f"<h2>{html.escape(name)}</h2>{image_tag(png, name)}" for name, png in figures.items())
        + f"<h2>Per case, side by side (click a heading to sort)</h2>{sortable_table(rows)}"
    )
    return page(f"Comparison: {' vs '.join(models)}", body)


def compare_reports(report_dirs: dict[str, Path], output_dir: str | Path, metric: str = "dice") -> dict[str, Any]:
    """Write a side-by-side table, paired plots and paired tests of report folders written by ``evaluate.json``.

    Args:
        report_dirs: model name -> report folder (with ``per_case.csv``), all on the same split.
        output_dir: where ``comparison.json``, ``comparison.html``, ``side_by_side.csv`` and
            ``paired_<a>_vs_<b>.png`` go.
        metric: the metric of the paired tests and plots.

    Raises:
        ValueError: the reports do not cover the same cases.

    """
    output_dir = Path(output_dir)
    tables = {name: _per_case(path) for name, path in report_dirs.items()}
    case_sets = {name: set(table) for name, table in tables.items()}
    cases = sorted(next(iter(case_sets.values())))
    if any(s != set(cases) for s in case_sets.values()):
        raise ValueError(f"reports cover different cases: { {n: len(s) for n, s in case_sets.items()} }")
    # The columns every report has (a report on a set without heart masks has no cardiomediastinum columns).
    first = next(iter(tables.values()))[cases[0]]
    metrics = [m for m in first if all(m in t[cases[0]] for t in tables.values())]
    if metric not in metrics:
        raise ValueError(f"metric {metric!r} is not in every report; they share {', '.join(metrics)}")
    columns = ["case"] + [f"{name}_{m}" for name in tables for m in metrics]
    rows = [{"case": c, **{f"{n}_{m}": tables[n][c][m] for n in tables for m in metrics}} for c in cases]
    write_csv(output_dir / "side_by_side.csv", rows, columns)
    means = {n: {m: _mean([t[c][m] for c in cases]) for m in metrics} for n, t in tables.items()}
    tests, figures = {}, {}
    for a, b in itertools.combinations(tables, 2):
        values_a, values_b = [tables[a][c][metric] for c in cases], [tables[b][c][metric] for c in cases]
        tests[f"{a} vs {b}"] = paired_comparison(values_a, values_b)
        png = paired_figure(values_a, values_b, a, b, metric)
        figures[f"{a} vs {b}"] = png
        write_atomic(output_dir / f"paired_{a}_vs_{b}.png", lambda p, png=png: p.write_bytes(png))
    record = {"cases": len(cases), "metric": metric, "metrics": metrics, "means": means, "paired_tests": tests}
    write_json(output_dir / "comparison.json", record)
    html_page = _comparison_page(record, figures, rows)
    write_atomic(output_dir / "comparison.html", lambda p: p.write_text(html_page, encoding="utf-8"))
    return record


def evaluate_bundle(bundle: str, dataset_dir: str, split: str, output_dir: Path) -> Path:
    """Run a bundle's ``evaluate.json`` on ``split`` and return its report folder."""
    from monai.bundle import run

    from lungseg_monai.paths import bundle_config_files, bundle_path

    configs = Path(bundle_path(bundle)) / "configs"
    report_dir = output_dir / bundle
    run(
        config_file=bundle_config_files(configs.parent, "evaluate.json"),
        bundle_root=str(configs.parent),
        meta_file=str(configs / "metadata.json"),
        logging_file=str(configs / "logging.conf"),
        dataset_dir=dataset_dir,
        eval_split=split,
        output_dir=str(report_dir),
    )
    return report_dir


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", nargs="+", default=["unet", "pix2pix"])
    parser.add_argument("--dataset-dir", required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--output", required=True)
    parser.add_argument("--metric", default="dice", help="per-case column of the paired tests (default: dice)")
    args = parser.parse_args(argv)
    output = Path(args.output)
    reports = {name: evaluate_bundle(name, args.dataset_dir, args.split, output) for name in args.bundles}
    record = compare_reports(reports, output, args.metric)
    print(json.dumps(record["paired_tests"], indent=2))
    return 0
