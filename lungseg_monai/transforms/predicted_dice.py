"""A per-film quality score: the lung Dice a film's mask is predicted to have, from the network's own output.

Three features of the lung probabilities at network size (after flip averaging, where the bundle averages):

- ``soft_dice``: the Dice the thresholded mask would have if the probabilities were the truth
  (``2 * sum(p * m) / (sum(p) + sum(m))``, ``m = p > 0.5``), low where the network hesitates;
- ``lung_confidence``: the mean lung probability inside the mask;
- ``height_asymmetry``: ``|h_right - h_left| / max(h_right, h_left)`` of the two lungs' heights in rows, high
  where one lung's base is cut off;

and, where the bundle runs a second network (:class:`~lungseg_monai.transforms.SecondOpinionFallbackd`):

- ``lung_agreement``: the lung Dice between the network's mask and the second network's, low where one of them
  stops a lung at a dense opacity. It finds the confident failures the first three miss.

The predicted Dice is a linear model of them, clipped to 0-1; its coefficients and the ``check_below`` threshold
are the bundle's hyper-parameters, fitted on the validation films, clean and with painted opacities
(``docs/experiments/quality_score_fit.py``). Without ``lung_agreement`` it misses confident failures: a lung that
the network stops at a dense opacity without hesitating still scores high.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np
from monai.config import KeysCollection
from monai.transforms import MapTransform
from monai.utils import convert_to_numpy

from lungseg_monai.transforms.mask_cleanup import bounding_box
from lungseg_monai.transforms.structures import LEFT_LUNG, RIGHT_LUNG

__all__ = [
    "OUTPUT_FEATURES",
    "QUALITY_FEATURES",
    "QUALITY_SCORE",
    "calls_for_check",
    "marks_check",
    "second_opinion_used",
    "quality_features",
    "predicted_dice",
    "PredictedDiced",
]

#: The features of the network's own output (:func:`quality_features`).
OUTPUT_FEATURES = ("soft_dice", "lung_confidence", "height_asymmetry")
#: Every feature a score may weigh: those of the output, and the second opinion's agreement.
QUALITY_FEATURES = (*OUTPUT_FEATURES, "lung_agreement")
#: The data key :class:`PredictedDiced` writes by default.
QUALITY_SCORE = "quality_score"


def _height(mask: np.ndarray) -> int:
    box = bounding_box(mask)
    return 0 if box is None else box[0].stop - box[0].start


def calls_for_check(score: Mapping[str, float]) -> bool:
    """Whether a score of :class:`PredictedDiced` (``predicted_dice``, ``check_below``) is below its threshold."""
    return score["predicted_dice"] < score["check_below"]


def second_opinion_used(score: Mapping[str, object]) -> bool:
    """Whether the film of a score has the second network's structures (``second_opinion``'s ``used``)."""
    second_opinion = score.get("second_opinion") or {}
    return bool(second_opinion.get("used"))  # type: ignore[union-attr]


def marks_check(score: Mapping[str, object]) -> bool:
    """Whether a score marks its film ``check``: below its threshold, or structures from the second network."""
    return calls_for_check(score) or second_opinion_used(score)  # type: ignore[arg-type]


def quality_features(probabilities: np.ndarray) -> dict[str, float]:
    """Return :data:`OUTPUT_FEATURES` of one film's ``(3, rows, columns)`` structure probabilities (0-1)."""
    lungs = np.maximum(probabilities[RIGHT_LUNG], probabilities[LEFT_LUNG]).astype(np.float32)
    mask = lungs > 0.5
    inside = int(np.count_nonzero(mask))
    if inside == 0:
        return {"soft_dice": 0.0, "lung_confidence": 0.0, "height_asymmetry": 1.0}
    soft_dice = 2.0 * float(lungs[mask].sum()) / (float(lungs.sum()) + inside)
    heights = _height(probabilities[RIGHT_LUNG] > 0.5), _height(probabilities[LEFT_LUNG] > 0.5)
    return {
        "soft_dice": soft_dice,
        "lung_confidence": float(lungs[mask].mean()),
        "height_asymmetry": abs(heights[0] - heights[1]) / max(heights),
    }


def predicted_dice(features: Mapping[str, float], intercept: float, weights: Mapping[str, float]) -> float:
    """Return ``intercept + sum(weights[f] * features[f] for f in weights)``, clipped to 0-1."""
    value = intercept + sum(float(weight) * features[name] for name, weight in weights.items())
    return float(min(1.0, max(0.0, value)))


class PredictedDiced(MapTransform):
    """Put the predicted lung Dice of each film in ``predicted_dice`` (and whether it calls for a check).

    Place it after the sigmoid, before the probabilities are resized to the film: the features are those of the
    network-size output. Writes ``score_key``: ``{"predicted_dice": ..., "check_below": ..., "features": ...}``
    (and ``"second_opinion"``, the fallback's choice, with ``second_opinion_key``), which the record writer turns
    into the record's ``predicted_dice`` and, below the threshold, the flag ``low_predicted_dice``
    (``quality: check``).

    Args:
        keys: the ``(3, rows, columns)`` structure probabilities (one key).
        intercept: the linear model's constant.
        weights: one weight per name of :data:`OUTPUT_FEATURES`, and for ``lung_agreement`` with
            ``second_opinion_key``.
        check_below: films whose predicted Dice is below this are flagged.
        score_key: where the score goes.
        second_opinion_key: where :class:`~lungseg_monai.transforms.SecondOpinionFallbackd` put its choice; None
            for a bundle without a second network.

    """

    def __init__(
        self,
        keys: KeysCollection,
        intercept: float,
        weights: Mapping[str, float],
        check_below: float,
        score_key: str = QUALITY_SCORE,
        second_opinion_key: str | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        if len(self.keys) != 1:
            raise ValueError(f"PredictedDiced: one key of probabilities, got {self.keys!r}")
        self.score_key, self.second_opinion_key = score_key, second_opinion_key
        expected = QUALITY_FEATURES if second_opinion_key else OUTPUT_FEATURES
        if sorted(weights) != sorted(expected) or not 0.0 <= check_below <= 1.0:
            raise ValueError(
                f"PredictedDiced: weights for {sorted(weights)}, check_below {check_below!r}; "
                f"expected one weight for each of {expected} and a threshold in 0-1"
            )
        self.intercept, self.weights, self.check_below = float(intercept), dict(weights), float(check_below)

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        """Return ``data`` with the score of its probabilities in ``score_key``."""
        d = dict(data)
        for key in self.key_iterator(d):
            features = quality_features(convert_to_numpy(d[key]))
            extra: dict[str, object] = {}
            if self.second_opinion_key:
                second_opinion = dict(d[self.second_opinion_key])  # type: ignore[call-overload]
                features["lung_agreement"] = float(second_opinion["lung_agreement"])
                extra["second_opinion"] = second_opinion
            score = predicted_dice(features, self.intercept, self.weights)
            d[self.score_key] = {
                "predicted_dice": round(score, 4),
                "check_below": self.check_below,
                "features": {name: round(value, 5) for name, value in features.items()},
                **extra,
            }
        return d
