"""Keep the network's structures unless a second opinion on the lungs disagrees (issue #30, dense opacity).

Under a dense basal opacity the bundles' network stops a lung at the opacity's upper edge, and is confident
about it. The second network (:class:`~lungseg_monai.inferers.SecondOpinionInferer`), trained with painted
opacities, draws the lung down to where the base belongs. Where the two lung masks agree (lung Dice at or above
``switch_below``: every clean validation film does), the network's output stands; where they do not, the second
network's structures replace it, the film is flagged and its CTR withheld. With ``base_gap_above`` they replace
it as well where the lungs agree but the network stops a lung's base short of the second network's (a mild basal
opacity: :func:`base_gap`). The agreement is also a feature of the quality score
(:class:`~lungseg_monai.transforms.PredictedDiced`).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping

import numpy as np
from monai.config import KeysCollection
from monai.transforms import Compose, MapTransform
from monai.utils import convert_to_numpy

from lungseg_monai.transforms.lung_base import worse_base_shortfall
from lungseg_monai.transforms.predicted_dice import PredictedDiced
from lungseg_monai.transforms.structures import LEFT_LUNG, RIGHT_LUNG

__all__ = [
    "SECOND_OPINION",
    "SecondOpinionFallbackd",
    "base_gap",
    "lung_agreement",
    "one_network_postprocessing",
    "second_opinion_choice",
]

#: The data key :class:`SecondOpinionFallbackd` writes by default.
SECOND_OPINION = "second_opinion"


def lung_agreement(first: np.ndarray, second: np.ndarray, threshold: float = 0.0) -> float:
    """Return the Dice of the lungs (right or left channel above ``threshold``) of two structure outputs."""
    a, b = (np.maximum(output[RIGHT_LUNG], output[LEFT_LUNG]) > threshold for output in (first, second))
    total = int(np.count_nonzero(a)) + int(np.count_nonzero(b))
    return 1.0 if total == 0 else 2.0 * int(np.count_nonzero(a & b)) / total


def base_gap(first: np.ndarray, second: np.ndarray, threshold: float = 0.0) -> float:
    """Return how far ``first``'s lung base stops above ``second``'s, in ``second``'s lung heights (the worse lung).

    :func:`~lungseg_monai.transforms.lung_base.base_shortfall` of two structure outputs' lungs (above
    ``threshold``), the second's standing in for the drawn lung: 0 where the first reaches as low; NaN where the
    second has no lung.
    """
    lungs = [RIGHT_LUNG, LEFT_LUNG]
    return worse_base_shortfall(np.asarray(first)[lungs] > threshold, np.asarray(second)[lungs] > threshold)


def second_opinion_choice(
    first: np.ndarray,
    second: np.ndarray,
    switch_below: float,
    base_gap_above: float | None = None,
    threshold: float = 0.0,
) -> dict[str, float | bool | None]:
    """Return whether the second network's structures replace the network's, and why.

    ``lung_agreement`` (:func:`lung_agreement`), ``base_gap`` (:func:`base_gap`; only with ``base_gap_above``) and
    ``used``: the lung Dice of the two is below ``switch_below``, or the network stops a lung base more than
    ``base_gap_above`` of the lung's height above the second network's.
    """
    agreement = lung_agreement(first, second, threshold)
    choice: dict[str, float | bool | None] = {"lung_agreement": round(agreement, 4)}
    used = agreement < switch_below
    if base_gap_above is not None:
        gap = base_gap(first, second, threshold)
        choice["base_gap"] = round(gap, 4) if math.isfinite(gap) else None  # None: the second network has no lung
        used = used or gap > base_gap_above
    choice["used"] = bool(used)
    return choice


class SecondOpinionFallbackd(MapTransform):
    """Split a :class:`SecondOpinionInferer` output; keep the network's half unless the lungs disagree.

    Place it first in the post-processing, on the stacked ``(2 * channels, rows, columns)`` logits. Writes
    ``info_key``: ``{"lung_agreement": ..., "used": ...}`` (``used``: the second network's structures replaced
    the network's; with ``base_gap_above``, ``base_gap`` too: :func:`second_opinion_choice`).

    Args:
        keys: the stacked output (one key).
        channels: the structures of each half (3: right lung, left lung, cardiomediastinum).
        switch_below: lung Dice between the two below which the second network's structures are used.
        base_gap_above: the second network's structures are used as well where the network stops a lung's base
            more than this share of the lung's height above the second network's (:func:`base_gap`); None: never.
        threshold: the value of a lung pixel in ``keys`` (0 for logits, 0.5 for probabilities).
        average_when_agreeing: where the two agree, the mean of both outputs instead of the network's alone (an
            ensemble of two networks, in place of the flip averaging of each).
        info_key: where the agreement and the choice go.

    """

    def __init__(
        self,
        keys: KeysCollection,
        channels: int = 3,
        switch_below: float = 0.95,
        threshold: float = 0.0,
        average_when_agreeing: bool = False,
        info_key: str = SECOND_OPINION,
        base_gap_above: float | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        if len(self.keys) != 1 or not 0.0 <= switch_below <= 1.0:
            raise ValueError(
                f"SecondOpinionFallbackd: keys {self.keys!r}, switch_below {switch_below!r}; "
                "expected one key and a lung Dice in 0-1"
            )
        if base_gap_above is not None and not 0.0 <= base_gap_above <= 1.0:
            raise ValueError(f"SecondOpinionFallbackd: base_gap_above {base_gap_above!r}; expected a share of 0-1")
        self.channels, self.switch_below, self.threshold, self.info_key = channels, switch_below, threshold, info_key
        self.average_when_agreeing, self.base_gap_above = average_when_agreeing, base_gap_above

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        """Return ``data`` with one half of its stacked output in ``keys`` and the choice in ``info_key``."""
        d = dict(data)
        for key in self.key_iterator(d):
            stacked = d[key]
            if stacked.shape[0] != 2 * self.channels:
                raise ValueError(
                    f"SecondOpinionFallbackd: {key!r} has {stacked.shape[0]} channels; "
                    f"expected {2 * self.channels} (SecondOpinionInferer's two outputs)"
                )
            first, second = stacked[: self.channels], stacked[self.channels :]
            choice = second_opinion_choice(
                convert_to_numpy(first),
                convert_to_numpy(second),
                self.switch_below,
                self.base_gap_above,
                self.threshold,
            )
            if choice["used"]:
                d[key] = second
            else:
                d[key] = (first + second) / 2 if self.average_when_agreeing else first
            d[self.info_key] = choice
        return d


def one_network_postprocessing(postprocessing: Compose) -> Compose:
    """Return a bundle's post-processing for one network's output: without the fallback and the quality score.

    For scripts that score a network alone (a candidate checkpoint, an ensemble): the bundle's post-processing
    expects :class:`~lungseg_monai.inferers.SecondOpinionInferer`'s stacked output, and its quality score the
    fallback's agreement.
    """
    steps = [t for t in postprocessing.transforms if not isinstance(t, (SecondOpinionFallbackd, PredictedDiced))]
    return Compose(steps)
