"""Time MONAI's threshold + largest component + fill holes against ``LargestFilledComponentd`` on real films.

For the largest films of cxr-lung-lr, the shipped U-Net's prediction is mapped back to the film's grid as the
bundles do, then cleaned both ways; prints milliseconds (best of 3) and the pixels in which the masks differ.

    python docs/experiments/mask_cleanup_costs.py --films 6
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

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

from lungseg_monai.data import RadiographReader
from lungseg_monai.networks import init_from_checkpoint
from lungseg_monai.paths import bundle_config_files, bundle_path
from lungseg_monai.transforms import LargestFilledComponentd, ResizeToMatchd

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


if __name__ == "__main__":
    main()
