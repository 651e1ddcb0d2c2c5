"""Output transforms that pick scalar losses out of an engine's (decollated) output."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["scalars_from_engine"]


def scalars_from_engine(keys: Sequence[str]) -> Callable[[Any], dict[str, float]]:
    """Return an ``output_transform`` giving ``{key: float}`` for ``StatsHandler``/``TensorBoardStatsHandler``.

    Works whether the engine output is a dict or a decollated list of dicts (scalars are the same in each).
    """

    def transform(output: Any) -> dict[str, float]:
        first = output[0] if isinstance(output, list) else output
        return {key: float(first[key]) for key in keys}

    return transform
