r"""Draw ``docs/conventions.png``: one film segmented by the shipped U-Net in both lung conventions.

Usage (from the repository root, after ``bash scripts/setup_env.sh``):
    .venv/bin/python docs/conventions_figure.py [--film sample_data/dicom/siim-cr-chest-jpeg-baseline.dcm]

Runs ``lungseg --convention anatomical`` and ``--convention visible`` on the film and shows, side by side, the
anatomical lungs (including the lung behind the heart), the visible lung fields (stopping at the heart border)
and the cardiomediastinum with the two widths of the cardiothoracic ratio.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from lungseg_monai.data.display import display_uint8  # noqa: E402
from lungseg_monai.data.radiograph_io import read_radiograph  # noqa: E402
from lungseg_monai.inference.cli import main as lungseg  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _segment(film: Path, work: Path, convention: str) -> tuple[np.ndarray, np.ndarray, dict]:
    inputs, outputs = work / "in", work / convention
    inputs.mkdir(exist_ok=True)
    shutil.copy(film, inputs / film.name)
    args = ["--input-dir", str(inputs), "--output-dir", str(outputs), "--convention", convention]
    if lungseg([*args, "--no-nifti", "--no-overlay", "--no-dicom-seg", "--num-workers", "0"]) != 0:
        raise SystemExit(f"lungseg failed on {film}")
    base = outputs / film.name
    lungs = np.asarray(Image.open(f"{base}.mask.png")) > 0
    heart = np.asarray(Image.open(f"{base}.heart.png")) > 0
    return lungs, heart, json.loads(Path(f"{base}.json").read_text())


def _tint(grey: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    rgb = np.stack([grey] * 3, axis=-1).astype(np.float32)
    rgb[mask] = 0.55 * rgb[mask] + 0.45 * np.asarray(colour, dtype=np.float32)
    return rgb.astype(np.uint8)


def main() -> None:
    """Segment the film in both conventions and write the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--film", default=str(REPO / "sample_data" / "dicom" / "siim-cr-chest-jpeg-baseline.dcm"))
    parser.add_argument("--output", default=str(REPO / "docs" / "conventions.png"))
    args = parser.parse_args()
    film = Path(args.film)
    with tempfile.TemporaryDirectory() as work:
        anatomical, heart, record = _segment(film, Path(work), "anatomical")
        visible, _, _ = _segment(film, Path(work), "visible")
    grey = display_uint8(read_radiograph(film)[0])
    panels = [
        (_tint(grey, anatomical, (230, 40, 40)), "anatomical lungs\n(--convention anatomical, the default)"),
        (_tint(grey, visible, (40, 160, 230)), "visible lung fields\n(--convention visible)"),
        (
            _tint(grey, heart, (240, 200, 0)),
            f"cardiomediastinum (<name>.heart.png)\nCTR {record['cardiothoracic_ratio']}",
        ),
    ]
    figure, axes = plt.subplots(1, 3, figsize=(13, 4.8))
    for axis, (image, title) in zip(axes, panels, strict=True):
        axis.imshow(image)
        axis.set_title(title, fontsize=10)
        axis.axis("off")
    columns = np.flatnonzero(heart.any(axis=0))
    row = record["thoracic_width_row"]
    lung_columns = np.flatnonzero(anatomical[row])
    axes[2].plot([lung_columns[0], lung_columns[-1]], [row, row], color="cyan", lw=1.5, label="thoracic width")
    heart_row = int(np.median(np.flatnonzero(heart.any(axis=1))))
    axes[2].plot(
        [columns[0], columns[-1]],
        [heart_row, heart_row],
        color="red",
        lw=1.5,
        label="cardiac width (its widest extent)",
    )
    axes[2].legend(loc="lower right", fontsize=8)
    figure.suptitle(f"{film.name}: shipped U-Net", fontsize=10)
    figure.tight_layout(rect=(0, 0, 1, 0.93))
    figure.savefig(args.output, dpi=90)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
