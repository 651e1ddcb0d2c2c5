"""A self-contained HTML evaluation report (all images embedded as data URIs; opens offline)."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence

__all__ = ["image_tag", "page", "render_report", "sortable_table"]

_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1300px; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #bbb; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; } img { max-width: 100%; } .note { color: #555; }
table.sortable th { cursor: pointer; background: #eee; } table.sortable th:hover { background: #ddd; }
"""

#: Click a heading to sort by that column (numbers numerically; again to reverse). No external script.
_SORT_SCRIPT = """
document.querySelectorAll('table.sortable th').forEach(function (th, column) {
  th.addEventListener('click', function () {
    var body = th.closest('table').tBodies[0], rows = Array.from(body.rows);
    var ascending = th.dataset.order !== 'asc';
    th.closest('tr').querySelectorAll('th').forEach(function (h) { delete h.dataset.order; });
    th.dataset.order = ascending ? 'asc' : 'desc';
    rows.sort(function (a, b) {
      var x = a.cells[column].dataset.value, y = b.cells[column].dataset.value;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
      return ascending ? c : -c;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""


def image_tag(png: bytes, alt: str) -> str:
    """Return an ``<img>`` with the PNG embedded as a data URI."""
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


def sortable_table(rows: Sequence[Mapping[str, object]]) -> str:
    """Return an HTML table of ``rows`` (dicts with the same keys) whose columns sort on a click."""
    if not rows:
        return "<p class='note'>none</p>"
    columns = list(rows[0])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td data-value='{html.escape(str(row[c]), quote=True)}'>{_fmt(row[c])}</td>" for c in columns)
        + "</tr>"
        for row in rows
    )
    return f"<table class='sortable'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, body: str) -> str:
    """Return a self-contained HTML page (style and the table-sorting script inline)."""
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}"
        f"<script>{_SORT_SCRIPT}</script></body></html>"
    )


def render_report(
    title: str,
    facts: Mapping[str, object],
    summary: Mapping[str, Mapping[str, object]],
    images: Mapping[str, bytes],
    montages: Mapping[str, bytes],
    tables: Mapping[str, Sequence[Mapping[str, object]]] | None = None,
) -> str:
    """Return the report's HTML.

    Args:
        title: page title.
        facts: model, split, resolution and similar one-line facts.
        summary: per-metric summary statistics.
        images: named figures (histograms, ROC, training curves) as PNG bytes.
        montages: case label -> montage PNG bytes.
        tables: titled tables (per case, human reference) shown sortable after the summary.

    """
    fact_rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{_fmt(v)}</td></tr>" for k, v in facts.items())
    figures = "".join(f"<h2>{html.escape(name)}</h2>{image_tag(png, name)}" for name, png in images.items())
    cases = "".join(f"<h3>{html.escape(label)}</h3>{image_tag(png, label)}" for label, png in montages.items())
    extra = "".join(f"<h2>{html.escape(name)}</h2>{sortable_table(rows)}" for name, rows in (tables or {}).items())
    return page(
        title,
        f"<table>{fact_rows}</table><h2>Summary</h2>{_summary_table(summary)}"
        "<p class='note'>ci95: 95% bootstrap confidence interval of the mean (2000 resamples, seed 0). "
        "Distances (hd95, asd) in mm where every case has a pixel spacing, else all in pixels. Columns without a "
        "prefix are both lungs in the anatomical convention; visible_lungs_* stop at the cardiomediastinum; "
        "ctr_* is the cardiothoracic ratio of prediction and reference; *_base_shortfall is how far the predicted "
        "lung's base stops above the drawn one, as a share of the drawn lung's height (0.33: its lowest third "
        "missing; 0: it reaches the drawn base or lower).</p>"
        f"{extra}{figures}<h2>Cases: X-ray | truth | prediction | overlay</h2>"
        "<p class='note'>overlay: green = agreement, red = false positive, blue = false negative.</p>"
        f"{cases}",
    )
