"""MONAI transforms for radiographs and lung masks."""

from __future__ import annotations

from lungseg_monai.transforms.array import LoadRadiograph, MergeLungMasks, binarize_mask
from lungseg_monai.transforms.dictionary import (
    LoadRadiographD,
    LoadRadiographd,
    LoadRadiographDict,
    MergeLungMasksD,
    MergeLungMasksd,
    MergeLungMasksDict,
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
    "binarize_mask",
]
