"""Read scalar training curves from a bundle's TensorBoard event files."""

from __future__ import annotations

from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

__all__ = ["read_scalar_curves"]


def read_scalar_curves(log_dir: str | Path | None) -> dict[str, tuple[list[int], list[float]]]:
    """Return ``{tag: (steps, values)}`` of every scalar in the event files under ``log_dir`` (empty if none)."""
    if not log_dir or not Path(log_dir).is_dir():
        return {}
    curves: dict[str, tuple[list[int], list[float]]] = {}
    for event_file in sorted(Path(log_dir).rglob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(event_file), size_guidance={"scalars": 0})
        accumulator.Reload()
        for tag in accumulator.Tags()["scalars"]:
            steps, values = curves.setdefault(tag, ([], []))
            for event in accumulator.Scalars(tag):
                steps.append(int(event.step))
                values.append(float(event.value))
    return curves
