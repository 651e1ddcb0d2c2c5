"""Time MONAI's ``ScaleIntensityRangePercentilesd`` against ``PercentileRangeScaled`` on real films, one core.

Each film is loaded as the bundles load it, at the reduced decode of a folder run (``decode_min_side`` 768) and in
full; both transforms scale it (0.5 and 99.5 percentiles to 0 and 1, clipped) and the largest difference of their
outputs is printed with the best of ``--repeats`` timings:

    python docs/experiments/normalisation_costs.py
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from monai.transforms import LoadImaged, ScaleIntensityRangePercentilesd

from lungseg_monai.data import RadiographReader
from lungseg_monai.transforms import PercentileRangeScaled

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
FILMS = (
    SHARED / "cxr-lung-lr" / "images" / "ryct.2020200028.fig1a.jpeg",  # 4095x3342 JPEG, the largest film
    SHARED / "dicom" / "pydicom-data_pypi" / "RG1_UNCR.dcm",  # 1955x1841 uncompressed CR (never reduced)
)
SETTINGS = {"keys": "image", "lower": 0.5, "upper": 99.5, "b_min": 0.0, "b_max": 1.0, "clip": True}


def best_seconds(transform, data: dict, repeats: int) -> tuple[float, torch.Tensor]:
    """Best wall time of ``repeats`` calls and the last output image."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = transform(dict(data))["image"]
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    """Print the timings and the largest difference per film and decode."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("films", nargs="*", type=Path, default=FILMS)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    monai_scale, ours = ScaleIntensityRangePercentilesd(**SETTINGS), PercentileRangeScaled(**SETTINGS)
    for film in args.films:
        for min_side in (768, 0):
            loader = LoadImaged("image", reader=RadiographReader(min_side=min_side), ensure_channel_first=True)
            data = loader({"image": str(film)})
            monai_s, monai_out = best_seconds(monai_scale, data, args.repeats)
            ours_s, ours_out = best_seconds(ours, data, args.repeats)
            shape = "x".join(str(side) for side in data["image"].shape[1:])
            print(
                f"{film.name:28} decode_min_side {min_side:3d} {shape:>9}  MONAI {monai_s * 1e3:6.0f} ms  "
                f"ours {ours_s * 1e3:5.0f} ms  largest difference {float((monai_out - ours_out).abs().max()):.1e}"
            )


if __name__ == "__main__":
    main()
