"""``index.html`` of an output folder: every film of the run at a glance, offline.

One row per input file: a thumbnail of its overlay (linked to the full one), the file (linked to its record), status,
quality, predicted Dice, cardiothoracic ratio, the film's view (a DICOM ViewPosition: an AP film's CTR runs high),
lung and heart areas, flags and reason. Columns sort on a click; a
check box (or opening ``index.html#check``) shows only the films to check. Style and scripts are inline and the
thumbnails are the overlay files beside it, so the page needs no network and works wherever the folder is copied.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lungseg_monai.data.atomic_writes import write_atomic
from lungseg_monai.inference.provenance import read_record, record_path
from lungseg_monai.reports.html_report import page

__all__ = ["PAGE_NAME", "write_run_page"]

PAGE_NAME = "index.html"

#: The check box filter: rows whose quality is not ``check`` are hidden while it is ticked (``#check`` ticks it).
_FILTER_SCRIPT = """
(function () {
  var box = document.getElementById('only-check');
  function apply() {
    document.querySelectorAll('#films tbody tr').forEach(function (row) {
      row.hidden = box.checked && row.dataset.quality !== 'check';
    });
  }
  box.addEventListener('change', apply);
  if (location.hash === '#check') { box.checked = true; }
  apply();
})();
"""

#: Text columns read left to right; the thumbnails stay small.
_STYLE = "#films td { text-align: left; vertical-align: middle; } p { margin: 0.3em 0; }"

_COLUMNS = ("overlay", "file", "status", "quality", "predicted Dice", "CTR", "view", "right lung", "left lung",
            "cardiomediastinum", "flags", "reason")  # fmt: skip


#: What a row takes from the film's record where its outcome does not give it (a node's outcome log does not).
_FROM_RECORD = ("quality", "flags", "cardiothoracic_ratio", "predicted_dice", "view_position")


def _cell(value: object, shown: str | None = None) -> str:
    sort_key = "" if value is None else str(value)
    text = html.escape(sort_key) if shown is None else shown
    return f"<td data-value='{html.escape(sort_key, quote=True)}'>{text}</td>"


def _area(record: Mapping[str, Any], structure: str) -> tuple[object, str]:
    """Return the area of ``structure`` (sort value, text): cm² where the film has a spacing, else pixels."""
    cm2, px = record.get(f"{structure}_cm2"), record.get(f"{structure}_px")
    if cm2 is not None:
        return cm2, f"{cm2:.1f} cm²"
    return px, "" if px is None else f"{px} px"


def _row(output_dir: Path, outcome: Mapping[str, Any]) -> str:
    file = str(outcome["file"])
    record = read_record(record_path(output_dir / file)) or {}
    outputs = record.get("outputs") if isinstance(record.get("outputs"), dict) else {}
    folder = Path(file).parent
    overlay = outputs.get("overlay_png")
    thumbnail = ""
    if isinstance(overlay, str) and Path(overlay).name == overlay:
        link = quote((folder / overlay).as_posix())
        thumbnail = f"<a href='{link}'><img src='{link}' alt='overlay' width='128' loading='lazy'></a>"
    name = html.escape(file)
    if record:
        name = f"<a href='{quote(record_path(Path(file)).as_posix())}'>{name}</a>"
    outcome = {**{k: record.get(k) for k in _FROM_RECORD}, **{
        k: v for k, v in outcome.items() if v not in (None, "", [])
    }}  # fmt: skip
    ratio, predicted = outcome.get("cardiothoracic_ratio"), outcome.get("predicted_dice")
    cells = [
        _cell(file, thumbnail),
        _cell(file, name),
        _cell(outcome["status"]),
        _cell(outcome.get("quality") or ""),
        _cell(predicted, "" if predicted is None else f"{predicted:.3f}"),
        _cell(ratio, "" if ratio is None else f"{ratio:.3f}"),
        _cell(outcome.get("view_position") or ""),
        *(_cell(*_area(record, structure)) for structure in ("right_lung", "left_lung", "cardiomediastinum")),
        _cell(" ".join(outcome.get("flags") or [])),
        _cell(outcome.get("reason") or ""),
    ]
    quality = html.escape(str(outcome.get("quality") or ""), quote=True)
    return f"<tr data-quality='{quality}'>{''.join(cells)}</tr>"


def write_run_page(output_dir: Path, outcomes: Iterable[Mapping[str, Any]], facts: Mapping[str, Any]) -> Path:
    """Write ``<output_dir>/index.html`` for a run's ``outcomes`` and ``facts`` (model, version, times).

    Each outcome needs ``file`` (relative to ``output_dir``) and ``status``; quality, flags, CTR, predicted Dice and
    view are taken from it, else from the film's record (a node's outcome log has only status and reason).
    """
    outcomes = list(outcomes)
    counts = Counter(str(o["status"]) for o in outcomes)
    to_check = sum(1 for o in outcomes if o.get("quality") == "check")
    said = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    lines = [f"{len(outcomes)} files: {said}; {to_check} to check"]
    lines += [f"{key}: {facts[key]}" for key in ("model", "version", "started_at", "finished_at") if facts.get(key)]
    head = "".join(f"<th>{html.escape(column)}</th>" for column in _COLUMNS)
    rows = "".join(_row(output_dir, outcome) for outcome in outcomes)
    body = (
        f"<style>{_STYLE}</style>"
        + "".join(f"<p>{html.escape(line)}</p>" for line in lines)
        + "<p><label><input type='checkbox' id='only-check'> only the films to check</label> "
        + "(or open <code>index.html#check</code>); click a heading to sort. Details: "
        + "<a href='run_summary.csv'>run_summary.csv</a>, <a href='run_summary.json'>run_summary.json</a></p>"
        + f"<table class='sortable' id='films'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        + f"<script>{_FILTER_SCRIPT}</script>"
    )
    text = page(f"lungseg run: {output_dir.name}", body)
    return write_atomic(output_dir / PAGE_NAME, lambda path: path.write_text(text, encoding="utf-8"))
