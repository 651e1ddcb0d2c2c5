"""The opacity stress benchmark's tables: Dice per opacity kind and severity, and two networks' paired differences."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from lungseg_monai.reports.statistics import paired_comparison

__all__ = [
    "ALL_KINDS",
    "BASE_SHORTFALL",
    "STRESS_SCORED",
    "REAL_DENSE",
    "paired_stress_differences",
    "row_value",
    "stress_summary",
]

#: The evaluation channels the benchmark scores.
STRESS_SCORED = ("lungs", "visible_lungs", "cardiomediastinum")
#: The column of the worse lung's base shortfall (:func:`~lungseg_monai.transforms.lung_base.worse_base_shortfall`).
BASE_SHORTFALL = "base_shortfall"
#: The name of the subset row of real dense-opacity films.
REAL_DENSE = "real dense opacity (clean films listed)"
#: The kind of :func:`paired_stress_differences`' rows that pool every painted kind of a severity.
ALL_KINDS = "every painted kind"


def row_value(value: float | None) -> float | None:
    """Return a figure as a benchmark row holds it: rounded to 4 digits, None where it is missing or NaN."""
    return None if value is None or not math.isfinite(value) else round(float(value), 4)


def stress_summary(rows: Sequence[dict[str, Any]], dense: set[str]) -> list[dict[str, Any]]:
    """Return the mean and worst Dice per kind and severity (the clean films once) and the real dense subset's row.

    With the rows' :data:`BASE_SHORTFALL` (the worse lung's), its mean and largest (``base_shortfall_max``) too.

    Args:
        rows: one per film and setting: ``film``, ``kind`` (``clean`` for the film as it is), ``severity``, the Dice
            of :data:`STRESS_SCORED` (None where the reference lacks the structure), ``quality`` (or None) and
            optionally :data:`BASE_SHORTFALL`.
        dense: the file names of the real dense-opacity films.

    """
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["kind"], row["severity"]), []).append(row)
    groups[(REAL_DENSE, 0)] = [row for row in groups.get(("clean", 0), []) if row["film"] in dense]
    summary = []
    for (kind, severity), members in groups.items():
        entry: dict[str, Any] = {"kind": kind, "severity": severity, "films": len(members)}
        for channel in STRESS_SCORED:
            values = [row[channel] for row in members if row.get(channel) is not None]
            entry[channel] = round(float(np.mean(values)), 4) if values else None
            entry[f"{channel}_min"] = round(float(np.min(values)), 4) if values else None
        shortfalls = [row[BASE_SHORTFALL] for row in members if row.get(BASE_SHORTFALL) is not None]
        if shortfalls:
            entry[BASE_SHORTFALL] = round(float(np.mean(shortfalls)), 4)
            entry[f"{BASE_SHORTFALL}_max"] = round(float(np.max(shortfalls)), 4)
        checked = [row for row in members if row.get("quality") is not None]
        entry["marked_check"] = sum(row["quality"] == "check" for row in checked) if checked else None
        summary.append(entry)
    return summary


def paired_stress_differences(
    first: Sequence[dict[str, Any]], second: Sequence[dict[str, Any]], channel: str = "lungs"
) -> list[dict[str, Any]]:
    """Return the paired difference (first minus second) of ``channel`` per painted kind and severity.

    Each row of a kind and severity is paired with the other network's on the same film; a row of kind
    :data:`ALL_KINDS` per severity pairs each film's mean over the painted kinds (so that the films, not their
    painted copies, are the independent draws). Each entry: ``kind``, ``severity`` and
    :func:`~lungseg_monai.reports.statistics.paired_comparison`'s ``n``, ``mean_difference``, ``ci95_difference``,
    ``wilcoxon_p`` and ``paired_t_p``. The clean films are left out (the headline figures pair them).

    Args:
        first: one network's rows of the benchmark (``opacity_stress.csv``: ``film``, ``kind``, ``severity`` and the
            Dice of :data:`STRESS_SCORED`; values as read from the CSV are fine).
        second: the other network's rows, on the same films.
        channel: the Dice compared.

    """

    def by_setting(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, int], dict[str, float]]:
        table: dict[tuple[str, int], dict[str, float]] = {}
        for row in rows:
            value = row.get(channel)
            if row["kind"] != "clean" and value not in (None, ""):
                table.setdefault((row["kind"], int(row["severity"])), {})[row["film"]] = float(value)
        return table

    a, b = by_setting(first), by_setting(second)
    settings = sorted(set(a) & set(b), key=lambda setting: (setting[1], setting[0]))
    differences = []
    for severity in sorted({severity for _, severity in settings}):
        kinds = [kind for kind, level in settings if level == severity]
        for kind in kinds:
            films = sorted(set(a[kind, severity]) & set(b[kind, severity]))
            if len(films) > 1:
                pair = [a[kind, severity][f] for f in films], [b[kind, severity][f] for f in films]
                differences.append({"kind": kind, "severity": severity, **paired_comparison(*pair)})
        films = sorted(set.intersection(*(set(a[k, severity]) & set(b[k, severity]) for k in kinds)))
        if len(kinds) > 1 and len(films) > 1:
            pooled = [[float(np.mean([t[k, severity][f] for k in kinds])) for f in films] for t in (a, b)]
            differences.append({"kind": ALL_KINDS, "severity": severity, **paired_comparison(*pooled)})
    return differences
