"""``lungseg-compare``: compare evaluated models on the same split, case by case, on one HTML page.

Examples:
    ``lungseg-compare --bundles unet pix2pix --dataset-dir ../shared/data/cxr-lung-lr --output reports/compare``
    evaluates both bundles on the test split first;
    ``lungseg-compare --reports unet=eval/unet attention=eval/attention ... --baseline unet --facts facts.json
    --output reports/architectures`` compares report folders ``evaluate.json`` wrote, any number of them: each
    model's headline figures with bootstrap CIs, paired differences against the baseline, the opacity stress
    table where a report has one (and, where both of a pair have it, the paired lung Dice differences per painted
    kind and severity), and per-model facts (parameters, file size, timings) from a JSON file.

"""

from __future__ import annotations

import argparse
import csv
import html
import itertools
import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lungseg_monai.data.atomic_writes import write_atomic, write_csv, write_json
from lungseg_monai.reports.figures import paired_figure, stress_by_model_figure
from lungseg_monai.reports.html_report import image_tag, page, sortable_table
from lungseg_monai.reports.opacity_stress import ALL_KINDS, paired_stress_differences
from lungseg_monai.reports.statistics import paired_comparison, summarize

__all__ = ["HEADLINE_METRICS", "compare_reports", "evaluate_bundle", "main"]

#: The per-case columns each model gets a CI and a paired difference for: lungs (anatomical, visible),
#: cardiomediastinum, and the cardiothoracic ratio's error.
HEADLINE_METRICS = ("dice", "visible_lungs_dice", "cardiomediastinum_dice", "ctr_abs_error")

logger = logging.getLogger(__name__)


def _per_case(report_dir: Path) -> dict[str, dict[str, float]]:
    with open(report_dir / "per_case.csv", newline="") as handle:
        return {row["case"]: {k: float(v) for k, v in row.items() if k != "case"} for row in csv.DictReader(handle)}


def _mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


def _finite_pairs(a: list[float], b: list[float]) -> tuple[list[float], list[float]]:
    kept = [(x, y) for x, y in zip(a, b, strict=True) if math.isfinite(x) and math.isfinite(y)]
    return [x for x, _ in kept], [y for _, y in kept]


def _headline(tables: dict[str, dict[str, dict[str, float]]], cases: list[str], metrics: list[str]) -> dict:
    """Return each model's mean and 95% bootstrap CI of each headline metric (finite cases only; no CI for one)."""
    result: dict[str, dict[str, Any]] = {}
    for name, table in tables.items():
        result[name] = {}
        for metric in metrics:
            summary = summarize([table[c][metric] for c in cases])
            result[name][metric] = {
                "mean": summary.get("mean", math.nan),
                "ci95": summary["ci95"] if summary["n"] > 1 else None,
                "cases": summary["n"],
            }
    return result


def _stress_rows(report_dirs: dict[str, Path]) -> list[dict[str, Any]]:
    """Return one row per model, opacity kind and severity from each report's ``summary.json`` (where it has one)."""
    rows = []
    for name, path in report_dirs.items():
        summary_path = path / "summary.json"
        table = json.loads(summary_path.read_text()).get("opacity_stress") if summary_path.is_file() else None
        rows += [
            {"model": name, **{k: entry[k] for k in ("kind", "severity", "films", "lungs")}} for entry in table or []
        ]
    return rows


def _stress_differences(report_dirs: dict[str, Path], pairs: list[tuple[str, str]]) -> dict[str, list[dict]]:
    """Return each pair's paired lung Dice differences on the stress benchmark, where both reports have its rows."""
    rows = {}
    for name, path in report_dirs.items():
        if (path / "opacity_stress.csv").is_file():
            with open(path / "opacity_stress.csv", newline="") as handle:
                rows[name] = list(csv.DictReader(handle))
    return {f"{a} vs {b}": paired_stress_differences(rows[a], rows[b]) for a, b in pairs if a in rows and b in rows}


def _comparison_page(
    record: dict[str, Any], figures: dict[str, bytes], rows: list[dict[str, Any]], stress_png: bytes | None
) -> str:
    """Return the comparison as one self-contained HTML page: figures per model, paired tests, plots, cases."""
    models = list(record["means"])

    def interval(entry: dict[str, Any]) -> str:
        ci = entry["ci95"]
        return f"{entry['mean']:.4f}" + (f" ({ci[0]:.4f} to {ci[1]:.4f})" if ci else "")

    def interval_of(difference: dict[str, Any]) -> str:
        low, high = difference["ci95_difference"]
        return f"{low:+.4f} to {high:+.4f}"

    headline = [{"model": n, **{m: interval(record["headline"][n][m]) for m in record["headline"][n]}} for n in models]
    differences = [
        {"pair": pair, "metric": metric, **stats}
        for pair, by_metric in record["paired_differences"].items()
        for metric, stats in by_metric.items()
    ]
    means = [{"metric": m, **{n: record["means"][n][m] for n in models}} for m in record["metrics"]]
    tests = [{"pair": pair, **stats} for pair, stats in record["paired_tests"].items()]
    facts = [{"model": n, **record["facts"][n]} for n in models if n in record["facts"]]
    stress = record["opacity_stress"]
    stress_differences = [
        {"pair": pair, "kind": e["kind"], "severity": e["severity"], "n": e["n"],
         "mean_difference": e["mean_difference"], "ci95": interval_of(e), "wilcoxon_p": e["wilcoxon_p"]}
        for pair, entries in record["opacity_stress_differences"].items()
        for e in entries
    ]  # fmt: skip
    body = (
        f"<p>{record['cases']} cases; paired tests on <b>{html.escape(record['metric'])}</b>"
        + (f", against <b>{html.escape(record['baseline'])}</b>" if record["baseline"] else "")
        + ".</p><h2>Headline figures (mean, 95% bootstrap CI)</h2>"
        + sortable_table(headline)
        + "<h2>Paired differences (first minus second; CI, Wilcoxon and t-test p)</h2>"
        + sortable_table(differences)
        + (f"<h2>Models</h2>{sortable_table(facts)}" if facts else "")
        + (f"<h2>Opacity stress: lung Dice</h2>{sortable_table(stress)}" if stress else "")
        + (image_tag(stress_png, "lung Dice against opacity severity, per kind and model") if stress_png else "")
        + (
            "<h2>Opacity stress: paired lung Dice differences (first minus second, films paired; "
            f"'{ALL_KINDS}': each film's mean over the kinds)</h2>{sortable_table(stress_differences)}"
            if stress_differences else ""
        )
        + f"<h2>Mean per model, every metric</h2>{sortable_table(means)}<h2>Paired tests</h2>{sortable_table(tests)}"
        + "".join(f"<h2>{html.escape(name)}</h2>{image_tag(png, name)}" for name, png in figures.items())
        + f"<h2>Per case, side by side (click a heading to sort)</h2>{sortable_table(rows)}"
    )  # fmt: skip
    return page(f"Comparison: {', '.join(models)}", body)


def compare_reports(
    report_dirs: dict[str, Path],
    output_dir: str | Path,
    metric: str = "dice",
    baseline: str | None = None,
    facts: dict[str, dict[str, Any]] | None = None,
    headline: Sequence[str] = HEADLINE_METRICS,
) -> dict[str, Any]:
    """Write a side-by-side table, paired plots and paired tests of report folders written by ``evaluate.json``.

    Args:
        report_dirs: model name -> report folder (with ``per_case.csv``), all on the same split.
        output_dir: where ``comparison.json`` (with ``opacity_stress_differences``: pair -> the paired differences
            of :func:`~lungseg_monai.reports.opacity_stress.paired_stress_differences`), ``comparison.html``,
            ``side_by_side.csv``,
            ``paired_<a>_vs_<b>.png`` and (where a report has the stress benchmark) ``opacity_stress.png`` go.
        metric: the metric of the paired tests and plots.
        baseline: the model every other is paired with; None: every pair.
        facts: model name -> columns of the page's model table (parameters, file size, timings); None: no table.
        headline: the metrics that get a CI per model and a paired difference per pair (those the reports have).

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
    if baseline is not None and baseline not in tables:
        raise ValueError(f"baseline {baseline!r} is not one of the compared models ({', '.join(tables)})")
    columns = ["case"] + [f"{name}_{m}" for name in tables for m in metrics]
    rows = [{"case": c, **{f"{n}_{m}": tables[n][c][m] for n in tables for m in metrics}} for c in cases]
    write_csv(output_dir / "side_by_side.csv", rows, columns)
    means = {n: {m: _mean([t[c][m] for c in cases]) for m in metrics} for n, t in tables.items()}
    headline_metrics = [m for m in headline if m in metrics]
    pairs = (
        list(itertools.combinations(tables, 2))
        if baseline is None
        else [(n, baseline) for n in tables if n != baseline]
    )
    tests, figures, differences = {}, {}, {}
    for a, b in pairs:
        values_a, values_b = [tables[a][c][metric] for c in cases], [tables[b][c][metric] for c in cases]
        tests[f"{a} vs {b}"] = paired_comparison(values_a, values_b)
        differences[f"{a} vs {b}"] = {
            m: paired_comparison(*_finite_pairs([tables[a][c][m] for c in cases], [tables[b][c][m] for c in cases]))
            for m in headline_metrics
        }
        png = paired_figure(values_a, values_b, a, b, metric)
        figures[f"{a} vs {b}"] = png
        write_atomic(output_dir / f"paired_{a}_vs_{b}.png", lambda p, png=png: p.write_bytes(png))
    record = {
        "cases": len(cases),
        "metric": metric,
        "baseline": baseline,
        "metrics": metrics,
        "means": means,
        "headline": _headline(tables, cases, headline_metrics),
        "paired_tests": tests,
        "paired_differences": differences,
        "facts": facts or {},
        "opacity_stress": _stress_rows(report_dirs),
        "opacity_stress_differences": _stress_differences(report_dirs, pairs),
    }
    write_json(output_dir / "comparison.json", record)
    stress_png = stress_by_model_figure(record["opacity_stress"]) if record["opacity_stress"] else None
    if stress_png:
        write_atomic(output_dir / "opacity_stress.png", lambda p: p.write_bytes(stress_png))
    html_page = _comparison_page(record, figures, rows, stress_png)
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
    parser.add_argument("--bundles", nargs="+", default=["unet", "pix2pix"], help="bundles to evaluate and compare")
    parser.add_argument(
        "--reports", nargs="+", metavar="NAME=DIR", help="compare these evaluate.json report folders instead"
    )
    parser.add_argument("--dataset-dir", help="the data the bundles are evaluated on (with --bundles)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--output", required=True)
    parser.add_argument("--metric", default="dice", help="per-case column of the paired tests (default: dice)")
    parser.add_argument("--baseline", help="pair every model with this one only (default: every pair)")
    parser.add_argument("--facts", help="a JSON file: model name -> {column: value} for the page's model table")
    args = parser.parse_args(argv)
    output = Path(args.output)
    if args.reports:
        malformed = [item for item in args.reports if "=" not in item]
        if malformed:
            parser.error(f"--reports takes NAME=DIR, got {' '.join(malformed)}")
        reports = {name: Path(folder) for name, folder in (item.split("=", 1) for item in args.reports)}
        missing = [str(folder) for folder in reports.values() if not (folder / "per_case.csv").is_file()]
        if missing:
            parser.error(f"no per_case.csv (an evaluate.json report) in {', '.join(missing)}")
    else:
        if not args.dataset_dir:
            parser.error("--dataset-dir is needed to evaluate --bundles")
        reports = {name: evaluate_bundle(name, args.dataset_dir, args.split, output) for name in args.bundles}
    facts = json.loads(Path(args.facts).read_text()) if args.facts else None
    try:
        record = compare_reports(reports, output, args.metric, args.baseline, facts)
    except ValueError as error:
        parser.error(str(error))
    print(json.dumps(record["paired_tests"], indent=2))
    return 0
