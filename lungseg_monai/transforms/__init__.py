"""MONAI transforms for radiographs and lung masks."""

from __future__ import annotations

from lungseg_monai.transforms.array import MergeLungMasks, ResizeToMatch, binarize_mask
from lungseg_monai.transforms.cardiothoracic import CardiothoracicRatio, cardiothoracic_ratio
from lungseg_monai.transforms.dictionary import (
    MergeLungMasksD,
    MergeLungMasksd,
    MergeLungMasksDict,
    ResizeToMatchD,
    ResizeToMatchd,
    ResizeToMatchDict,
)
from lungseg_monai.transforms.intensity import PercentileRangeScale, PercentileRangeScaled
from lungseg_monai.transforms.known_channels import KnownChannelsDiceCELoss, fill_unknown_channels, known_channels
from lungseg_monai.transforms.mask_cleanup import LargestFilledComponentd, largest_filled_component
from lungseg_monai.transforms.opacity import OPACITY_KINDS, PaintOpacityd, RandOpacityd, paint_opacity
from lungseg_monai.transforms.predicted_dice import QUALITY_FEATURES, PredictedDiced, quality_features
from lungseg_monai.transforms.second_opinion import SECOND_OPINION, SecondOpinionFallbackd, lung_agreement
from lungseg_monai.transforms.structures import (
    CARDIOMEDIASTINUM,
    CONVENTIONS,
    EVALUATION_CHANNELS,
    LEFT_LUNG,
    RIGHT_LUNG,
    STRUCTURES,
    UNKNOWN,
    EvaluationChannelsd,
    RandLateralFlipd,
    StackStructureMasksd,
    heart_annotated,
    lung_masks,
)

__all__ = [
    "PercentileRangeScale",
    "PercentileRangeScaled",
    "LargestFilledComponentd",
    "largest_filled_component",
    "MergeLungMasks",
    "MergeLungMasksD",
    "MergeLungMasksDict",
    "MergeLungMasksd",
    "ResizeToMatch",
    "ResizeToMatchD",
    "ResizeToMatchDict",
    "ResizeToMatchd",
    "binarize_mask",
    "KnownChannelsDiceCELoss",
    "fill_unknown_channels",
    "known_channels",
    "CARDIOMEDIASTINUM",
    "CONVENTIONS",
    "LEFT_LUNG",
    "RIGHT_LUNG",
    "STRUCTURES",
    "UNKNOWN",
    "RandLateralFlipd",
    "StackStructureMasksd",
    "lung_masks",
    "EVALUATION_CHANNELS",
    "EvaluationChannelsd",
    "heart_annotated",
    "CardiothoracicRatio",
    "cardiothoracic_ratio",
    "OPACITY_KINDS",
    "PaintOpacityd",
    "RandOpacityd",
    "paint_opacity",
    "QUALITY_FEATURES",
    "PredictedDiced",
    "quality_features",
    "SECOND_OPINION",
    "SecondOpinionFallbackd",
    "lung_agreement",
]
