"""``PercentileRangeScaled`` gives the values of MONAI's ``ScaleIntensityRangePercentilesd`` (films, random data)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import LoadImaged, ScaleIntensityRangePercentilesd
from shared_data import CXR, DICOM

from lungseg_monai.data import RadiographReader
from lungseg_monai.transforms import PercentileRangeScaled

SETTINGS = {"keys": "image", "lower": 0.5, "upper": 99.5, "b_min": 0.0, "b_max": 1.0, "clip": True}


def _both(image) -> tuple[torch.Tensor, torch.Tensor]:
    monai_out = ScaleIntensityRangePercentilesd(**SETTINGS)({"image": image})["image"]
    ours = PercentileRangeScaled(**SETTINGS)({"image": image})["image"]
    return monai_out, ours


@pytest.mark.parametrize(
    ("film", "min_side"),
    [
        # 4095x3342 JPEG decoded at 1/4: under 10^6 pixels, where MONAI takes torch.quantile
        (CXR / "images" / "ryct.2020200028.fig1a.jpeg", 768),
        (CXR / "images" / "ryct.2020200028.fig1a.jpeg", 0),  # 13.7 MP in full: MONAI's NumPy path
        (DICOM / "pydicom-data_pypi" / "RG1_J2KR.dcm", 768),  # lossless JPEG 2000 at a reduced level
        (DICOM / "fo-dicom" / "CR-MONO1-10-chest", 0),
    ],
)
def test_real_films_scale_to_monai_values(film, min_side):
    loaded = LoadImaged("image", reader=RadiographReader(min_side=min_side), ensure_channel_first=True)(
        {"image": str(film)}
    )["image"]
    monai_out, ours = _both(loaded)
    assert isinstance(ours, MetaTensor) and ours.dtype == torch.float32
    torch.testing.assert_close(ours, monai_out, rtol=0, atol=1e-6)
    torch.testing.assert_close(ours.affine, loaded.affine)
    assert float(ours.min()) == 0.0 and float(ours.max()) == 1.0


@pytest.mark.parametrize("shape", [(1, 37, 53), (1, 1000, 1001), (2, 64, 48)])
def test_random_images_and_channels_match_monai(shape):
    rng = np.random.default_rng(0)
    image = torch.as_tensor(rng.gamma(2.0, 300.0, size=shape).astype(np.float32))
    for channel_wise, relative in ((False, False), (True, False), (False, True)):
        settings = {**SETTINGS, "channel_wise": channel_wise, "relative": relative}
        monai_out = ScaleIntensityRangePercentilesd(**settings)({"image": image})["image"]
        ours = PercentileRangeScaled(**settings)({"image": image})["image"]
        torch.testing.assert_close(ours, monai_out, rtol=0, atol=1e-6)


def test_values_are_clipped_linear_percentile_scaling():
    image = np.linspace(0, 4095, 4 * 5, dtype=np.float32).reshape(1, 4, 5)
    out = np.asarray(PercentileRangeScaled(**SETTINGS)({"image": image})["image"])
    # linear interpolation between ranks, as np.percentile and torch.quantile define it
    low, high = np.percentile(image, [0.5, 99.5])
    np.testing.assert_allclose(out, np.clip((image - low) / (high - low), 0, 1), atol=1e-6)


def test_a_flat_image_takes_monai_edge_case():
    image = torch.full((1, 8, 8), 7.0)
    with pytest.warns(Warning, match="Divide by zero"):
        ours = PercentileRangeScaled(**SETTINGS)({"image": image})["image"]
    monai_out = ScaleIntensityRangePercentilesd(**SETTINGS)({"image": image})["image"]
    torch.testing.assert_close(ours, monai_out)
