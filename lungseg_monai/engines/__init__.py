"""Ignite engines (MONAI ``Trainer`` subclasses) and their schedules."""

from __future__ import annotations

from lungseg_monai.engines.lr_schedules import linear_decay
from lungseg_monai.engines.pix2pix_trainer import Pix2PixTrainer, logits_to_image_range, mask_to_image_range

__all__ = ["Pix2PixTrainer", "linear_decay", "logits_to_image_range", "mask_to_image_range"]
