"""MONAI transforms for radiographs and lung masks."""

from __future__ import annotations

from lungseg_monai.transforms.array import MergeLungMasks, ResizeToMatch, binarize_mask
from lungseg_monai.transforms.dictionary import (
    MergeLungMasksD,
    MergeLungMasksd,
    MergeLungMasksDict,
    ResizeToMatchD,
    ResizeToMatchd,
    ResizeToMatchDict,
    SplitLungsd,
)

__all__ = [
    "MergeLungMasks",
    "MergeLungMasksD",
    "MergeLungMasksDict",
    "MergeLungMasksd",
    "ResizeToMatch",
    "ResizeToMatchD",
    "ResizeToMatchDict",
    "ResizeToMatchd",
    "SplitLungsd",
    "binarize_mask",
]
