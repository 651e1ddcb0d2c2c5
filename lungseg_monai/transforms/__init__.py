"""MONAI transforms for radiographs and lung masks."""

from __future__ import annotations

from lungseg_monai.transforms.array import LoadRadiograph, MergeLungMasks, ResizeToMatch, binarize_mask
from lungseg_monai.transforms.dictionary import (
    LoadRadiographD,
    LoadRadiographd,
    LoadRadiographDict,
    MergeLungMasksD,
    MergeLungMasksd,
    MergeLungMasksDict,
    ResizeToMatchD,
    ResizeToMatchd,
    ResizeToMatchDict,
)

__all__ = [
    "LoadRadiograph",
    "LoadRadiographD",
    "LoadRadiographDict",
    "LoadRadiographd",
    "MergeLungMasks",
    "MergeLungMasksD",
    "MergeLungMasksDict",
    "MergeLungMasksd",
    "ResizeToMatch",
    "ResizeToMatchD",
    "ResizeToMatchDict",
    "ResizeToMatchd",
    "binarize_mask",
]
