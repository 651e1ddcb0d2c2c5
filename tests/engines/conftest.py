"""A small real training loader: the embedded sample cases at 64 px, pix2pix preprocessing."""

from __future__ import annotations

from pathlib import Path

import pytest
from monai.data import DataLoader, Dataset, load_decathlon_datalist
from monai.transforms import Compose, EnsureTyped, Resized, ScaleIntensityRangePercentilesd
from shared_data import load_radiographs

from lungseg_monai.transforms import MergeLungMasksd

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sample_train_loader():
    items = []
    for split in ("training", "validation", "test"):
        items += load_decathlon_datalist(
            REPO / "data_manifests" / "cxr-lung-lr-sample.json",
            data_list_key=split,
            base_dir=REPO / "sample_data" / "cxr-lung-lr-sample",
        )
    transform = Compose(
        [
            load_radiographs(keys=["image", "right_mask", "left_mask"]),
            MergeLungMasksd(),
            ScaleIntensityRangePercentilesd("image", 0.5, 99.5, -1.0, 1.0, clip=True),
            Resized(["image", "label"], (64, 64), mode=("bilinear", "nearest")),
            EnsureTyped(["image", "label"]),
        ]
    )
    data = [transform(item) for item in items]
    return DataLoader(Dataset(data), batch_size=3)
