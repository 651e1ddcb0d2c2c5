"""A per-film quality score: the lung Dice a film's mask is predicted to have, from the network's own output.

Features of the structure probabilities at network size (after the second opinion's choice, where the bundle
runs one):

- ``soft_dice``: the Dice the thresholded mask would have if the probabilities were the truth
  (``2 * sum(p * m) / (sum(p) + sum(m))``, ``m = p > 0.5``), low where the network hesitates;
- ``lung_confidence``: the mean lung probability inside the mask;
- ``height_asymmetry``: ``|h_right - h_left| / max(h_right, h_left)`` of the two lungs' heights in rows, high
  where one lung's base is cut off;
- ``worse_lung_soft_dice`` (0.8.1): the lower of the two lungs' own soft Dice: a network that hesitates over one
  lung's base is diluted by the other lung in ``soft_dice``;
- ``worse_lung_irregularity`` (0.8.1): the higher of the two lungs' isoperimetric ratio
  (``perimeter ** 2 / (4 * pi * area)``, boundary pixels as the perimeter; about 1.3-1.6 for a drawn lung), high
  for a ragged or torn outline;
- ``worse_lung_base_notch``: the higher of the two lungs' :func:`base_notch`, the share of the lung's area that
  notches cut into its base (a lung stopped short at a patchy basal opacity); at most 0.003 for the lungs the
  reference annotators drew;

and, where the bundle runs a second network (:class:`~lungseg_monai.transforms.SecondOpinionFallbackd`):

- ``lung_agreement``: the lung Dice between the network's mask and the second network's, low where one of them
  stops a lung at a dense opacity.

The predicted Dice is a linear model of some of them (the ``weights`` name which), clipped to 0-1; its
coefficients and the ``check_below`` threshold are the bundle's hyper-parameters, fitted on films clean and with
painted opacities (``docs/experiments/quality_score_fit.py``: the U-Net's, since 0.8.3, on the training films, its
features and threshold chosen on the validation films; Pix2Pix's on the validation films). Every feature is
computed and written beside the score, so a refit can choose among them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence

import numpy as np
from monai.config import KeysCollection
from monai.transforms import MapTransform
from monai.utils import convert_to_numpy
from scipy import ndimage

from lungseg_monai.transforms.mask_cleanup import bounding_box, largest_filled_component
from lungseg_monai.transforms.structures import LEFT_LUNG, RIGHT_LUNG

__all__ = [
    "OUTPUT_FEATURES",
    "QUALITY_FEATURES",
    "isoperimetric_ratio",
    "base_notch",
    "QUALITY_SCORE",
    "calls_for_check",
    "marks_check",
    "second_opinion_used",
    "ragged_lung_base",
    "quality_features",
    "predicted_dice",
    "PredictedDiced",
]

#: The features of the network's own output (:func:`quality_features`).
OUTPUT_FEATURES = (
    "soft_dice",
    "lung_confidence",
    "height_asymmetry",
    "worse_lung_soft_dice",
    "worse_lung_irregularity",
    "worse_lung_base_notch",
)
#: Every feature a score may weigh: those of the output, and the second opinion's agreement.
QUALITY_FEATURES = (*OUTPUT_FEATURES, "lung_agreement")
#: The data key :class:`PredictedDiced` writes by default.
QUALITY_SCORE = "quality_score"


def _height(mask: np.ndarray) -> int:
    box = bounding_box(mask)
    return 0 if box is None else box[0].stop - box[0].start


def _height_asymmetry(right: np.ndarray, left: np.ndarray) -> float:
    heights = _height(right), _height(left)
    return abs(heights[0] - heights[1]) / max(heights)


def _soft_dice(probabilities: np.ndarray, mask: np.ndarray) -> float:
    inside = int(np.count_nonzero(mask))
    return 0.0 if inside == 0 else 2.0 * float(probabilities[mask].sum()) / (float(probabilities.sum()) + inside)


def isoperimetric_ratio(mask: np.ndarray) -> float:
    """Return ``perimeter ** 2 / (4 * pi * area)`` of a 2D mask, its boundary pixels as the perimeter (0 if empty).

    About 0.8 for a filled disc (the boundary pixels undercount its perimeter), 1.25 for a square, higher for a
    ragged, torn or many-piece outline.
    """
    area = int(np.count_nonzero(mask))
    if area == 0:
        return 0.0
    perimeter = area - int(np.count_nonzero(ndimage.binary_erosion(mask)))
    return perimeter**2 / (4.0 * np.pi * area)


def _closing(mask: np.ndarray, radius: int) -> np.ndarray:
    """Return the morphological closing of ``mask`` with a disc of ``radius`` pixels (two exact distance maps)."""
    padded = np.pad(mask, radius + 1)
    dilated = ndimage.distance_transform_edt(~padded) <= radius
    closed = ndimage.distance_transform_edt(dilated) > radius
    return closed[radius + 1 : -radius - 1, radius + 1 : -radius - 1]


def base_notch(mask: np.ndarray, radius_fraction: float = 0.1, base_fraction: float = 0.4) -> float:
    """Return the area notches cut into a lung's base, as a share of the lung's area (0 for an empty mask).

    The notches are what a morphological closing with a disc of ``radius_fraction`` of the lung's height fills in
    the lowest ``base_fraction`` of its rows: narrow bays in the outline, not the broad dome of the diaphragm. A
    drawn anatomical lung's base is one smooth curve (on a 256 px grid: below 0.003 for the 168 lungs of
    ``cxr-lung-lr``, 0.0056 at the 99th percentile of the 660 ``lung-shapes-v7`` lungs of training patients;
    ``docs/experiments/lung_base_notch.py``); a network that stops a lung at a patchy basal opacity, or takes gas
    under the diaphragm for lung, leaves bays (``966_fixed.dcm``'s left lung). Measured on the mask's largest piece
    with its holes filled, as the film's lung is written.
    """
    lung = largest_filled_component(np.asarray(mask, dtype=bool))
    box = bounding_box(lung)
    if box is None:
        return 0.0
    lung = lung[box]
    height = lung.shape[0]
    radius = max(1, round(radius_fraction * height))
    base = height - round(base_fraction * height)
    # the closing of a row depends on the rows within twice the radius: close only the base and what it needs
    top = max(0, base - 2 * radius - 1)
    bays = _closing(lung[top:], radius) & ~lung[top:]
    return float(np.count_nonzero(bays[base - top :])) / float(np.count_nonzero(lung))


def calls_for_check(score: Mapping[str, float]) -> bool:
    """Whether a score of :class:`PredictedDiced` (``predicted_dice``, ``check_below``) is below its threshold."""
    return score["predicted_dice"] < score["check_below"]


def second_opinion_used(score: Mapping[str, object]) -> bool:
    """Whether the film of a score has the second network's structures (``second_opinion``'s ``used``)."""
    second_opinion = score.get("second_opinion") or {}
    return bool(second_opinion.get("used"))  # type: ignore[union-attr]


def ragged_lung_base(score: Mapping[str, object]) -> bool:
    """Whether a score found a lung base notched beyond its ``ragged_base_above`` (``ragged_lung_base``)."""
    return bool(score.get("ragged_lung_base"))


def marks_check(score: Mapping[str, object]) -> bool:
    """Whether a score marks its film ``check``: below its threshold, second-network structures, a ragged base."""
    return calls_for_check(score) or second_opinion_used(score) or ragged_lung_base(score)  # type: ignore[arg-type]


def quality_features(probabilities: np.ndarray, names: Sequence[str] = OUTPUT_FEATURES) -> dict[str, float]:
    """Return the features ``names`` (of :data:`OUTPUT_FEATURES`) of one film's ``(3, rows, columns)`` probabilities.

    Only those asked for are computed (the worse-lung features cost about 1 ms a film at 256 px, the others 0.15).
    """
    lungs = np.maximum(probabilities[RIGHT_LUNG], probabilities[LEFT_LUNG]).astype(np.float32)
    mask = lungs > 0.5
    if not mask.any():
        empty = {"soft_dice": 0.0, "lung_confidence": 0.0, "height_asymmetry": 1.0}
        return {name: empty.get(name, 0.0) for name in names}
    each_lung = [probabilities[channel].astype(np.float32) for channel in (RIGHT_LUNG, LEFT_LUNG)]
    each_mask = [lung > 0.5 for lung in each_lung]
    features: dict[str, Callable[[], float]] = {
        "soft_dice": lambda: _soft_dice(lungs, mask),
        "lung_confidence": lambda: float(lungs[mask].mean()),
        "height_asymmetry": lambda: _height_asymmetry(*each_mask),
        "worse_lung_soft_dice": lambda: min(
            _soft_dice(lung, lung_mask) for lung, lung_mask in zip(each_lung, each_mask, strict=True)
        ),
        "worse_lung_irregularity": lambda: max(isoperimetric_ratio(lung_mask) for lung_mask in each_mask),
        "worse_lung_base_notch": lambda: max(base_notch(lung_mask) for lung_mask in each_mask),
    }
    return {name: features[name]() for name in names}


def predicted_dice(features: Mapping[str, float], intercept: float, weights: Mapping[str, float]) -> float:
    """Return ``intercept + sum(weights[f] * features[f] for f in weights)``, clipped to 0-1."""
    value = intercept + sum(float(weight) * features[name] for name, weight in weights.items())
    return float(min(1.0, max(0.0, value)))


class PredictedDiced(MapTransform):
    """Put the predicted lung Dice of each film in ``predicted_dice`` (and whether it calls for a check).

    Place it after the sigmoid, before the probabilities are resized to the film: the features are those of the
    network-size output. Writes ``score_key``: ``{"predicted_dice": ..., "check_below": ..., "features": ...}``
    (and ``"second_opinion"``, the fallback's choice, with ``second_opinion_key``; ``"ragged_lung_base"`` with
    ``ragged_base_above``), which the record writer turns into the record's ``predicted_dice`` and, below the
    threshold, the flag ``low_predicted_dice`` (``quality: check``).

    Args:
        keys: the ``(3, rows, columns)`` structure probabilities (one key).
        intercept: the linear model's constant.
        weights: one weight per feature the score weighs: names of :data:`OUTPUT_FEATURES`, and
            ``lung_agreement`` with ``second_opinion_key``.
        check_below: films whose predicted Dice is below this are flagged.
        score_key: where the score goes.
        second_opinion_key: where :class:`~lungseg_monai.transforms.SecondOpinionFallbackd` put its choice; None
            for a bundle without a second network.
        features: the features computed and written beside the score; None: those the weights name (a refit that
            compares others asks for them here, e.g. all of :data:`QUALITY_FEATURES`).
        ragged_base_above: a film whose ``worse_lung_base_notch`` is above this gets ``"ragged_lung_base": true``
            in its score (the flag ``ragged_lung_base``, ``quality: check``, CTR withheld) whatever its predicted
            Dice: a lung base more notched than any the reference annotators drew. None: no such check.

    """

    def __init__(
        self,
        keys: KeysCollection,
        intercept: float,
        weights: Mapping[str, float],
        check_below: float,
        score_key: str = QUALITY_SCORE,
        second_opinion_key: str | None = None,
        features: Sequence[str] | None = None,
        ragged_base_above: float | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        if len(self.keys) != 1:
            raise ValueError(f"PredictedDiced: one key of probabilities, got {self.keys!r}")
        self.score_key, self.second_opinion_key = score_key, second_opinion_key
        available = QUALITY_FEATURES if second_opinion_key else OUTPUT_FEATURES
        written = list(weights) if features is None else list(features)
        if ragged_base_above is not None and "worse_lung_base_notch" not in written:
            written.append("worse_lung_base_notch")
        if not weights or set(weights) - set(written) or set(written) - set(available) or not 0.0 <= check_below <= 1:
            raise ValueError(
                f"PredictedDiced: weights for {sorted(weights)}, features {features!r}, check_below {check_below!r}; "
                f"expected weights for some of {available}, features that include them and a threshold in 0-1"
            )
        self.intercept, self.weights, self.check_below = float(intercept), dict(weights), float(check_below)
        if ragged_base_above is not None and not 0.0 <= ragged_base_above <= 1:
            raise ValueError(f"PredictedDiced: ragged_base_above {ragged_base_above!r}; expected a share in 0-1")
        self.ragged_base_above = None if ragged_base_above is None else float(ragged_base_above)
        self.output_features = [name for name in written if name in OUTPUT_FEATURES]
        self.features = written

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        """Return ``data`` with the score of its probabilities in ``score_key``."""
        d = dict(data)
        for key in self.key_iterator(d):
            computed = quality_features(convert_to_numpy(d[key]), self.output_features)
            extra: dict[str, object] = {}
            if self.second_opinion_key:
                second_opinion = dict(d[self.second_opinion_key])  # type: ignore[call-overload]
                computed["lung_agreement"] = float(second_opinion["lung_agreement"])
                extra["second_opinion"] = second_opinion
            features = {name: computed[name] for name in self.features}
            if self.ragged_base_above is not None:
                extra["ragged_lung_base"] = features["worse_lung_base_notch"] > self.ragged_base_above
            score = predicted_dice(features, self.intercept, self.weights)
            d[self.score_key] = {
                "predicted_dice": round(score, 4),
                "check_below": self.check_below,
                "features": {name: round(value, 5) for name, value in features.items()},
                **extra,
            }
        return d
