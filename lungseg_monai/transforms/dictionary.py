"""Dictionary wrappers (``keys``-based) of the radiograph transforms, for MONAI ``Compose`` lists."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import torch
from monai.config import KeysCollection
from monai.transforms import MapTransform

from lungseg_monai.data.errors import MaskError
from lungseg_monai.transforms.array import MergeLungMasks, ResizeToMatch, binarize_mask

__all__ = [
    "MergeLungMasksd",
    "MergeLungMasksD",
    "MergeLungMasksDict",
    "ResizeToMatchd",
    "ResizeToMatchD",
    "ResizeToMatchDict",
]


class MergeLungMasksd(MapTransform):
    """Merge right/left lung masks into ``label_key``; a dataset with one lung mask passes through binarized.

    Args:
        keys: the right-lung and left-lung mask keys, in that order.
        label_key: where the merged label goes; if the masks are missing but this key is present (Shenzhen
            or JSRT style single masks) that label is binarized instead.
        reference_key: the image key whose size the masks must match.
        multiclass: see :class:`MergeLungMasks`.
        require_both: see :class:`MergeLungMasks`.
        delete_masks: drop the per-lung mask keys after merging.

    """

    def __init__(
        self,
        keys: KeysCollection = ("right_mask", "left_mask"),
        label_key: str = "label",
        reference_key: str | None = "image",
        multiclass: bool = False,
        require_both: bool = True,
        delete_masks: bool = True,
        allow_missing_keys: bool = True,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        if len(self.keys) != 2:
            raise ValueError(f"MergeLungMasksd needs exactly two keys (right, left), got {self.keys}")
        self.label_key = label_key
        self.reference_key = reference_key
        self.delete_masks = delete_masks
        self.merger = MergeLungMasks(multiclass=multiclass, require_both=require_both)

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        """Return a copy of ``data`` with the merged (or binarized) label under ``label_key``."""
        d = dict(data)
        right_key, left_key = self.keys
        reference = d.get(self.reference_key) if self.reference_key else None
        if right_key in d and left_key in d:
            d[self.label_key] = self.merger(d[right_key], d[left_key], reference)
            if self.delete_masks:
                d.pop(right_key)
                d.pop(left_key)
        elif self.label_key in d:
            d[self.label_key] = _binarized_like(d[self.label_key])
        elif not self.allow_missing_keys or (right_key in d) != (left_key in d):
            present = [k for k in (right_key, left_key) if k in d]
            raise MaskError(f"cannot merge lung masks: only {present} present for {d.get(self.reference_key)}")
        return d


def _binarized_like(label: torch.Tensor) -> torch.Tensor:
    binary = binarize_mask(label)
    return label.clone().copy_(binary) if isinstance(label, torch.Tensor) else binary


class ResizeToMatchd(MapTransform):
    """Dictionary version of :class:`ResizeToMatch`: resize each key to the spatial shape of ``key_dst``.

    Example (probabilities back to the original grid as a boolean mask, in a post-processing ``Compose``):
        >>> ResizeToMatchd(keys="pred", key_dst="original", mode="bilinear", threshold=0.5)(item)

    """

    def __init__(
        self,
        keys: KeysCollection,
        key_dst: str,
        mode: str = "bilinear",
        threshold: float | None = None,
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.key_dst = key_dst
        self.resizer = ResizeToMatch(mode=mode, threshold=threshold)

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        """Return a copy of ``data`` with each key resized to ``data[key_dst]``'s (file's) spatial shape.

        With a ``threshold``, each key becomes a boolean mask.
        """
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.resizer(d[key], d[self.key_dst])
        return d


MergeLungMasksD = MergeLungMasksDict = MergeLungMasksd
ResizeToMatchD = ResizeToMatchDict = ResizeToMatchd
