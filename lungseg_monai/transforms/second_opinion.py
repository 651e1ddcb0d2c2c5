"""Keep the network's structures unless a second opinion on the lungs disagrees (issue #30, dense opacity).

Under a dense basal opacity the bundles' network stops a lung at the opacity's upper edge, and is confident
about it. The second network (:class:`~lungseg_monai.inferers.SecondOpinionInferer`), trained with painted
opacities, draws the lung down to where the base belongs. Where the two lung masks agree (lung Dice at or above
``switch_below``: every clean validation film does), the network's output stands; where they do not, the second
network's structures replace it, the film is flagged and its CTR withheld. The agreement is also a feature of
the quality score (:class:`~lungseg_monai.transforms.PredictedDiced`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np
from monai.config import KeysCollection
from monai.transforms import Compose, MapTransform
from monai.utils import convert_to_numpy

from lungseg_monai.transforms.predicted_dice import PredictedDiced
from lungseg_monai.transforms.structures import LEFT_LUNG, RIGHT_LUNG

__all__ = ["SECOND_OPINION", "SecondOpinionFallbackd", "lung_agreement", "one_network_postprocessing"]

#: The data key :class:`SecondOpinionFallbackd` writes by default.
SECOND_OPINION = "second_opinion"


def lung_agreement(first: np.ndarray, second: np.ndarray, threshold: float = 0.0) -> float:
    """Return the Dice of the lungs (right or left channel above ``threshold``) of two structure outputs."""
    a, b = (np.maximum(output[RIGHT_LUNG], output[LEFT_LUNG]) > threshold for output in (first, second))
    total = int(np.count_nonzero(a)) + int(np.count_nonzero(b))
    return 1.0 if total == 0 else 2.0 * int(np.count_nonzero(a & b)) / total


class SecondOpinionFallbackd(MapTransform):
    """Split a :class:`SecondOpinionInferer` output; keep the network's half unless the lungs disagree.

    Place it first in the post-processing, on the stacked ``(2 * channels, rows, columns)`` logits. Writes
    ``info_key``: ``{"lung_agreement": ..., "used": ...}`` (``used``: the second network's structures replaced
    the network's).

    Args:
        keys: the stacked output (one key).
        channels: the structures of each half (3: right lung, left lung, cardiomediastinum).
        switch_below: lung Dice between the two below which the second network's structures are used.
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
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        if len(self.keys) != 1 or not 0.0 <= switch_below <= 1.0:
            raise ValueError(
                f"SecondOpinionFallbackd: keys {self.keys!r}, switch_below {switch_below!r}; "
                "expected one key and a lung Dice in 0-1"
            )
        self.channels, self.switch_below, self.threshold, self.info_key = channels, switch_below, threshold, info_key
        self.average_when_agreeing = average_when_agreeing

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
            agreement = lung_agreement(convert_to_numpy(first), convert_to_numpy(second), self.threshold)
            used = agreement < self.switch_below
            if used:
                d[key] = second
            else:
                d[key] = (first + second) / 2 if self.average_when_agreeing else first
            d[self.info_key] = {"lung_agreement": round(agreement, 4), "used": bool(used)}
        return d


def one_network_postprocessing(postprocessing: Compose) -> Compose:
    """Return a bundle's post-processing for one network's output: without the fallback and the quality score.

    For scripts that score a network alone (a candidate checkpoint, an ensemble): the bundle's post-processing
    expects :class:`~lungseg_monai.inferers.SecondOpinionInferer`'s stacked output, and its quality score the
    fallback's agreement.
    """
    steps = [t for t in postprocessing.transforms if not isinstance(t, (SecondOpinionFallbackd, PredictedDiced))]
    return Compose(steps)
