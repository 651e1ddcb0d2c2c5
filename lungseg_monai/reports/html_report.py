"""A self-contained HTML evaluation report (all images embedded as data URIs; opens offline)."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping

__all__ = ["render_report"]

_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1300px; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #bbb; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; } img { max-width: 100%; } .note { color: #555; }
"""


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return html.escape(str(value))


def _summary_table(summary: Mapping[str, Mapping[str, object]]) -> str:
    columns = ["mean", "median", "std", "worst", "best", "ci95", "n"]
    head = "<tr><th>metric</th>" + "".join(f"<th>{c}</th>" for c in columns) + "</tr>"
    rows = [
        f"<tr><td>{html.escape(name)}</td>" + "".join(f"<td>{_fmt(stats.get(c, ''))}</td>" for c in columns) + "</tr>"
        for name, stats in summary.items()
    ]
    return f"<table>{head}{''.join(rows)}</table>"


def render_report(
    title: str,
    facts: Mapping[str, object],
    summary: Mapping[str, Mapping[str, object]],
    images: Mapping[str, bytes],
    montages: Mapping[str, bytes],
) -> str:
    """Return the report's HTML.

    Args:
        title: page title.
        facts: model, split, resolution and similar one-line facts.
        summary: per-metric summary statistics.
        images: named figures (histograms, ROC, training curves) as PNG bytes.
        montages: case label -> montage PNG bytes.

    """
    fact_rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{_fmt(v)}</td></tr>" for k, v in facts.items())
    figures = "".join(f"<h2>{html.escape(name)}</h2>{_img(png, name)}" for name, png in images.items())
    cases = "".join(f"<h3>{html.escape(label)}</h3>{_img(png, label)}" for label, png in montages.items())
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<table>{fact_rows}</table><h2>Summary</h2>{_summary_table(summary)}"
        "<p class='note'>ci95: 95% bootstrap confidence interval of the mean (2000 resamples, seed 0). "
        "Distances (hd95, asd) in mm where the pixel spacing is known, else in pixels.</p>"
        f"{figures}<h2>Cases: X-ray | truth | prediction | overlay</h2>"
        "<p class='note'>overlay: green = agreement, red = false positive, blue = false negative.</p>"
        f"{cases}</body></html>"
    )
