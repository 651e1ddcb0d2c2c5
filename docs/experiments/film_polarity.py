"""Can a film's pixels tell a negative (a wrong PhotometricInterpretation) from a positive? A probe, nothing shipped.

    python docs/experiments/film_polarity.py

A positive frontal chest film has a bright centre (spine and mediastinum) between darker lung fields. The contrast
measured here: the mean of the central tenth of the columns minus the mean of the two strips at 15-35% and 65-85%
of the width, over rows 25-65% of the height, on the film read as a folder run reads it (``read_radiograph``,
reduced decode to 512 px) and scaled between its 1st and 99th percentiles. A negative flips its sign. Prints the
contrast of the cxr-lung-lr films (all positive, as published) and of their inverted copies, and of each shared
DICOM file a folder run segments (two of them are negatives: ``Fake_MONOHR1.dcm``, mis-tagged MONOCHROME1, and
``JPEG2KLossless_1s_1f_u_16_16.dcm``). With ``--painted``, also the lowest contrast of the validation and test films
under every painted opacity (the stress benchmark's kinds and severities), on the network's input as the U-Net's
``evaluate.json`` prepares it (256 px, normalised): whether dense opacity brings a positive film below zero.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lungseg_monai.data import RadiographReadError, read_radiograph
from lungseg_monai.handlers.opacity_stress import painted
from lungseg_monai.transforms.opacity import OPACITY_KINDS, SEVERITIES
from lungseg_monai.workflows import bundle_workflow

REPO = Path(__file__).resolve().parents[2]


def centre_contrast(pixels: np.ndarray) -> float:
    """Mean of the central column strip minus that of the two lung-field strips, on percentile-scaled pixels."""
    low, high = np.percentile(pixels, [1, 99])
    scaled = np.clip((pixels - low) / max(high - low, 1e-6), 0.0, 1.0)
    rows, columns = scaled.shape
    band = scaled[int(0.25 * rows) : int(0.65 * rows)]
    centre = band[:, int(0.45 * columns) : int(0.55 * columns)].mean()
    right = band[:, int(0.15 * columns) : int(0.35 * columns)].mean()
    left = band[:, int(0.65 * columns) : int(0.85 * columns)].mean()
    return float(centre - (right + left) / 2)


def painted_contrasts(dataset_dir: Path) -> None:
    """Print, per kind and severity, the lowest contrast of the validation and test films' network inputs."""
    settings = [("clean", 0)] + [(kind, severity) for kind in OPACITY_KINDS for severity in SEVERITIES[1:]]
    lowest: dict[tuple[str, int], tuple[float, str]] = {}
    for split in ("validation", "test"):
        parser = bundle_workflow("unet", "evaluate.json", "eval", dataset_dir=str(dataset_dir), eval_split=split).parser
        films, preprocessing = (
            parser.get_parsed_content("validate#datalist"),
            parser.get_parsed_content("preprocessing"),
        )
        for kind, severity in settings:
            steps = preprocessing if severity == 0 else painted(preprocessing, kind, severity)
            for film in films:
                value = centre_contrast(np.asarray(steps(dict(film))["image"][0]))
                lowest[kind, severity] = min(
                    lowest.get((kind, severity), (np.inf, "")), (value, Path(film["image"]).name)
                )
    for (kind, severity), (value, name) in lowest.items():
        print(f"  {kind} {severity}: lowest {value:+.3f} ({name})")


def main() -> None:
    """Print the contrasts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=REPO.parent / "shared" / "data" / "cxr-lung-lr" / "images")
    parser.add_argument("--dicom-dir", type=Path, default=REPO.parent / "shared" / "data" / "dicom")
    parser.add_argument("--painted", action="store_true", help="also the painted validation and test films")
    args = parser.parse_args()
    films = {path.name: centre_contrast(read_radiograph(path, 512)[0]) for path in sorted(args.images.iterdir())}
    # inverting a film's values flips the sign of its contrast (the percentile scaling is symmetric)
    ordered = sorted(films.items(), key=lambda item: item[1])
    print(f"{len(films)} cxr-lung-lr films: contrast {ordered[0][1]:+.3f} ({ordered[0][0]}) to {ordered[-1][1]:+.3f}")
    print(f"  the lowest five: {', '.join(f'{value:+.3f} {name}' for name, value in ordered[:5])}")
    print(f"  their inverted copies: {-ordered[-1][1]:+.3f} to {-ordered[0][1]:+.3f}")
    print("shared DICOM files a folder run segments:")
    for path in sorted(p for p in args.dicom_dir.rglob("*") if p.is_file() and not p.name.endswith((".txt", ".md"))):
        try:
            pixels = read_radiograph(path, 512)[0]
        except RadiographReadError:
            continue  # skipped or failed in a folder run too
        print(f"  {centre_contrast(pixels):+.3f} {path.relative_to(args.dicom_dir)}")
    if args.painted:
        print("validation and test films, the U-Net's network input, per painted kind and severity:")
        painted_contrasts(args.images.parent)


if __name__ == "__main__":
    main()
