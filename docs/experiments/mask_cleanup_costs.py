"""Time MONAI's threshold + largest component + fill holes against ``LargestFilledComponentd`` on real films.

For the largest films of cxr-lung-lr, the shipped U-Net's prediction is mapped back to the film's grid as the
bundles do, then cleaned both ways; prints milliseconds (best of 3) and the pixels in which the masks differ. Then
the labelling that the cleaning does twice a channel (the mask's box, and the background of its largest piece),
SciPy's ``ndimage.label`` against :func:`~lungseg_monai.transforms.mask_cleanup.label` (OpenCV's, since 0.8.9) on
OpenCV's default threads and on one (as each item thread of a folder run would have it to itself), with whether the
two find the same components:

    python docs/experiments/mask_cleanup_costs.py --films 6
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from monai.transforms import (
    Activationsd,
    AsDiscreted,
    Compose,
    FillHolesd,
    KeepLargestConnectedComponentd,
    LoadImage,
    Resize,
    ScaleIntensityRangePercentiles,
)
from scipy import ndimage

from lungseg_monai.data import RadiographReader
from lungseg_monai.networks import init_from_checkpoint
from lungseg_monai.paths import bundle_config_files, bundle_path
from lungseg_monai.transforms import LargestFilledComponentd, ResizeToMatchd
from lungseg_monai.transforms.mask_cleanup import bounding_box, label, largest_component

CHANNELS = [0, 1, 2]


def _best_ms(function, data: dict) -> tuple[float, np.ndarray]:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        result = function(dict(data))["pred"]
        best = min(best, time.perf_counter() - start)
    return 1000 * best, np.asarray(result) > 0


def main() -> None:
    """Print the comparison, one film per line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--films", type=int, default=6, help="how many of the largest image files")
    parser.add_argument("--images-dir", default="../shared/data/cxr-lung-lr/images")
    args = parser.parse_args()
    from monai.bundle import ConfigParser

    config = ConfigParser()
    config.read_config(bundle_config_files(bundle_path("unet"), "inference.json"))
    network = config.get_parsed_content("network_def").eval()
    init_from_checkpoint(network, f"{bundle_path('unet')}/models/model.pt")
    monai_chain = Compose(
        [
            AsDiscreted("pred", threshold=0.5),
            KeepLargestConnectedComponentd("pred", CHANNELS, is_onehot=True, independent=True, num_components=1),
            FillHolesd("pred", CHANNELS),
        ]
    )
    ours = LargestFilledComponentd("pred", threshold=0.5)
    to_film = Compose([Activationsd("pred", sigmoid=True), ResizeToMatchd("pred", key_dst="original")])
    load = LoadImage(reader=RadiographReader(), ensure_channel_first=True, image_only=True)
    films = sorted(Path(args.images_dir).iterdir(), key=lambda path: -path.stat().st_size)[: args.films]
    for film in films:
        image = load(str(film))
        network_input = Resize((256, 256), mode="area")(
            ScaleIntensityRangePercentiles(0.5, 99.5, 0, 1, clip=True)(image)
        )
        with torch.inference_mode():
            data = to_film({"pred": network(network_input[None])[0], "original": image})
        monai_ms, expected = _best_ms(monai_chain, data)
        ours_ms, cleaned = _best_ms(ours, data)
        differing = [int((expected[c] != cleaned[c]).sum()) for c in CHANNELS]
        print(
            f"{film.name[:40]:40} {tuple(image.shape[1:])}  MONAI {monai_ms:6.0f} ms  ours {ours_ms:5.0f} ms  "
            f"differing pixels per channel {differing}"
        )
        print(f"{'':40}  {time_labelling(_labelling_inputs(np.asarray(data['pred']) >= 0.5))}")


def _labelling_inputs(thresholded: np.ndarray) -> list[np.ndarray]:
    """Return what the cleaning labels in each channel: the mask in its box, the padded background of its piece."""
    inputs = []
    for channel in thresholded:
        box = bounding_box(channel)
        if box is None:
            continue
        piece, _ = largest_component(channel)
        inputs += [np.ascontiguousarray(channel[box]), ~np.pad(piece, 1)]
    return inputs


def _same_components(first: tuple[np.ndarray, int], second: tuple[np.ndarray, int]) -> bool:
    """Whether two labellings split a mask into the same components (whatever their numbers)."""
    (a, count_a), (b, count_b) = first, second
    pairs = np.unique(a.astype(np.int64) * (count_b + 1) + b)
    return count_a == count_b and pairs.size == np.unique(a).size == np.unique(b).size


def _labelling_ms(function, masks: list[np.ndarray]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for mask in masks:
            function(mask)
        best = min(best, time.perf_counter() - start)
    return 1000 * best


def time_labelling(masks: list[np.ndarray]) -> str:
    """SciPy's labelling against ours on ``masks``, OpenCV's default threads and one; whether they agree."""
    full = ndimage.generate_binary_structure(2, 2)
    same = all(_same_components(ndimage.label(m, structure=full), label(m)) for m in masks)
    scipy_ms = _labelling_ms(lambda m: ndimage.label(m, structure=full), masks)
    threads = cv2.getNumThreads()
    default_ms = _labelling_ms(label, masks)
    cv2.setNumThreads(1)
    one_ms = _labelling_ms(label, masks)
    cv2.setNumThreads(threads)
    return (
        f"labelling SciPy {scipy_ms:5.1f} ms  OpenCV {default_ms:5.1f} ms ({threads} threads), {one_ms:5.1f} ms "
        f"(1 thread)  same components: {same}"
    )


if __name__ == "__main__":
    main()
