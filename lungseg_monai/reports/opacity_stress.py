"""The opacity stress benchmark's table: mean and worst Dice per opacity kind and severity, and a real subset."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["STRESS_SCORED", "REAL_DENSE", "stress_summary"]

#: The evaluation channels the benchmark scores.
STRESS_SCORED = ("lungs", "visible_lungs", "cardiomediastinum")
#: The name of the subset row of real dense-opacity films.
REAL_DENSE = "real dense opacity (clean films listed)"


def stress_summary(rows: Sequence[dict[str, Any]], dense: set[str]) -> list[dict[str, Any]]:
    """Return the mean and worst Dice per kind and severity (the clean films once) and the real dense subset's row.

    Args:
        rows: one per film and setting: ``film``, ``kind`` (``clean`` for the film as it is), ``severity``, the Dice
            of :data:`STRESS_SCORED` (None where the reference lacks the structure) and ``quality`` (or None).
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
        checked = [row for row in members if row.get("quality") is not None]
        entry["marked_check"] = sum(row["quality"] == "check" for row in checked) if checked else None
        summary.append(entry)
    return summary
