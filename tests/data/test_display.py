"""``display_uint8``: the 8-bit scaling of overlays and montages, its percentiles taken from a sample of the film."""

from __future__ import annotations

import numpy as np
import torch
from shared_data import load_radiographs

from lungseg_monai.data.display import PERCENTILE_SAMPLE, display_uint8


def _full_percentile_scaling(pixels: np.ndarray) -> np.ndarray:
    low, high = np.percentile(pixels, [0.5, 99.5])
    return (np.clip((pixels - low) / max(high - low, 1e-6), 0, 1) * 255).astype(np.uint8)


def test_sampled_percentiles_scale_a_real_film_as_all_its_pixels_would(dicom_dir):
    path = str(dicom_dir / "pylibjpeg-data" / "966_fixed.dcm")
    pixels = np.asarray(load_radiographs("image")({"image": path})["image"][0], dtype=np.float32)
    assert pixels.size > 16 * PERCENTILE_SAMPLE  # a 2128x2000 film: sampled
    shown, reference = display_uint8(pixels), _full_percentile_scaling(pixels)
    assert shown.dtype == np.uint8 and shown.shape == pixels.shape
    difference = np.abs(shown.astype(int) - reference.astype(int))
    assert difference.max() <= 1 and (difference == 0).mean() > 0.8  # measured: at most 1 grey level, 87 % equal
    assert 0 < (shown == 0).mean() < 0.02 and 0 < (shown == 255).mean() < 0.02  # 0.5 % clipped at each end
    np.testing.assert_array_equal(display_uint8(torch.from_numpy(pixels)), shown)  # a tensor as well


def test_small_images_use_every_pixel():
    pixels = np.arange(200 * 300, dtype=np.float32).reshape(200, 300)
    np.testing.assert_array_equal(display_uint8(pixels), _full_percentile_scaling(pixels))
