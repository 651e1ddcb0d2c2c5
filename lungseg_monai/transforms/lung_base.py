"""Where a lung mask's base lies against another's (the drawn one, or a second network's): issue #30.

A lung that stops at the upper edge of a dense basal opacity instead of at the diaphragm loses a third of its height
and still scores a lung Dice of about 0.76-0.85; the report says so directly: by how much of the drawn lung's height
the predicted base stops short.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from lungseg_monai.transforms.mask_cleanup import largest_component
from lungseg_monai.transforms.structures import EVALUATION_CHANNELS

__all__ = [
    "base_shortfall",
    "evaluated_base_shortfalls",
    "largest_component_rows",
    "worse_base_shortfall",
    "worse_shortfall",
]


def base_shortfall(pred: np.ndarray, truth: np.ndarray) -> float:
    """Return how far ``pred``'s lung base stops above ``truth``'s, as a share of the drawn lung's height.

    Each base is the lowest row of the mask's largest piece (as the film's lung is written), the height that
    piece's rows from apex to base. 0.33: the lowest third of the lung's height is missing; 0 where the
    predicted lung reaches the drawn base or below it (a lung that reaches too low is Dice's and HD95's to find:
    the shortfall is the one failure, so that its mean and worst say how much of the lung bases went missing). NaN
    where ``truth`` has no lung (nothing to measure against); 1.0 where ``pred`` has none (the whole height).

    Args:
        pred: one predicted lung, a 2D boolean mask.
        truth: the drawn lung on the same grid.

    """
    drawn = largest_component_rows(np.asarray(truth, dtype=bool))
    if drawn is None:
        return math.nan
    predicted = largest_component_rows(np.asarray(pred, dtype=bool))
    if predicted is None:
        return 1.0
    return max(0.0, (drawn.stop - predicted.stop) / (drawn.stop - drawn.start))


def largest_component_rows(mask: np.ndarray) -> slice | None:
    """Return the rows of a 2D boolean mask's largest piece, apex to base; None when it is empty.

    The piece :func:`~lungseg_monai.transforms.mask_cleanup.largest_filled_component` keeps, without filling its
    holes (which lie inside its rows): the same rows in a third of the time.
    """
    component = largest_component(mask)
    return None if component is None else component[1][0]


def worse_base_shortfall(pred: np.ndarray, truth: np.ndarray) -> float:
    """Return the larger :func:`base_shortfall` of the two lungs of ``(2, rows, columns)`` masks (right, left).

    NaN only where neither lung is drawn.
    """
    return worse_shortfall(base_shortfall(p, t) for p, t in zip(pred, truth, strict=True))


def evaluated_base_shortfalls(pred_eval: np.ndarray, label_eval: np.ndarray) -> tuple[float, float]:
    """Return the right and left lungs' :func:`base_shortfall` of boolean evaluation channels.

    ``(5, rows, columns)`` masks of :data:`~lungseg_monai.transforms.structures.EVALUATION_CHANNELS`, prediction
    and reference, so that each lung is measured as it is scored (in the reference's lung convention).
    """
    sides = [EVALUATION_CHANNELS.index(name) for name in ("right_lung", "left_lung")]
    right, left = (base_shortfall(pred_eval[side], label_eval[side]) for side in sides)
    return right, left


def worse_shortfall(shortfalls: Iterable[float]) -> float:
    """Return the largest of the lungs' base shortfalls that were measured (NaN where none was)."""
    finite = [value for value in shortfalls if math.isfinite(value)]
    return max(finite) if finite else math.nan
