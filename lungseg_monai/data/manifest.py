"""Build MONAI (Decathlon-style) datalists with a seeded, patient-grouped train/validation/test split.

Example:
    ``lungseg-manifest ../shared/data/cxr-lung-lr data_manifests/cxr-lung-lr.json --seed 0``

"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from lungseg_monai.data.atomic_writes import write_atomic
from lungseg_monai.data.errors import RadiographReadError
from lungseg_monai.data.layouts import LAYOUTS, Case, find_cases
from lungseg_monai.data.mask_scale import mask_upscale_factor
from lungseg_monai.data.radiograph_io import read_radiograph

__all__ = [
    "ManifestReport",
    "build_manifest",
    "lung_convention_of",
    "manifest_lung_convention",
    "split_by_patient",
    "load_patient_ids",
    "main",
]

logger = logging.getLogger(__name__)

SPLITS = ("training", "validation", "test")


@dataclass
class ManifestReport:
    """What was kept and what was refused (with the reason) while building a manifest."""

    kept: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)

    def refuse(self, image: str, reason: str) -> None:
        """Record a refused image and log it."""
        logger.warning("refused %s: %s", image, reason)
        self.refused.append({"image": image, "reason": reason})


def load_patient_ids(
    csv_path: str | Path, id_column: str = "patientid", file_column: str = "filename"
) -> dict[str, str]:
    """Map image file names to patient ids from a metadata CSV (e.g. the cxr-lung-lr ``SOURCE_metadata.csv``)."""
    with open(csv_path, newline="", encoding="utf-8") as handle:
        return {row[file_column]: row[id_column] for row in csv.DictReader(handle) if row.get(file_column)}


def _size_of(path: Path) -> tuple[int, int]:
    """Return (columns, rows) without decoding the pixels where the format allows it."""
    try:
        with Image.open(path) as image:
            return image.size
    except OSError:
        pixels, _ = read_radiograph(path)
        return pixels.shape[1], pixels.shape[0]


def _check_case(root: Path, case: Case) -> str | None:
    """Return why ``case`` must be refused, or None when it is usable."""
    if case.missing_masks:
        return f"no mask for {', '.join(case.missing_masks)}"
    try:
        image_size = _size_of(root / case.image)
        image_shape = (image_size[1], image_size[0])
        for key, rel in case.masks.items():
            mask, _ = read_radiograph(root / rel)
            if mask.shape != image_shape and mask_upscale_factor(mask.shape, image_shape) is None:
                return f"mask {rel} is {mask.shape[1]}x{mask.shape[0]}, image is {image_size[0]}x{image_size[1]}"
            if not mask.any():
                return f"mask {rel} ({key}) is empty"
    except (RadiographReadError, OSError) as err:
        return f"unreadable: {err}"
    return None


#: Lungs sharing more than this part of their area with the cardiomediastinum are anatomical lungs.
_ANATOMICAL_OVERLAP = 0.05


def _lung_share_in_heart(root: Path, case: Case) -> float | None:
    """Return the part of the case's lung area inside its cardiomediastinum mask (None without both)."""
    lung_keys = [k for k in ("right_mask", "left_mask", "label") if k in case.masks]
    if "heart_mask" not in case.masks or not lung_keys:
        return None
    heart = read_radiograph(root / case.masks["heart_mask"])[0] > 0
    lungs = np.zeros_like(heart)
    for key in lung_keys:
        mask = read_radiograph(root / case.masks[key])[0] > 0
        if mask.shape != heart.shape:
            return None
        lungs |= mask
    return float((lungs & heart).sum() / max(int(lungs.sum()), 1))


def lung_convention_of(shares: list[float]) -> tuple[str, str]:
    """Return the lung convention of a dataset and why, from the lung share inside the heart of its cases.

    Anatomical lungs include the lung behind the heart (about 18% of their area in cxr-lung-lr); visible lung
    fields stop at the heart border. Without heart masks the set is taken to mark visible lung fields, as the
    public screening sets (Montgomery, Shenzhen, JSRT/SCR) do.
    """
    if not shares:
        return "visible", "assumed: no cardiomediastinum masks (the public screening sets mark visible lung fields)"
    share = float(np.median(shares))
    convention = "anatomical" if share > _ANATOMICAL_OVERLAP else "visible"
    return convention, f"measured: median {share:.1%} of the lung area lies inside the cardiomediastinum mask"


def manifest_lung_convention(datalist: str | Path) -> str:
    """Return the ``lung_convention`` a manifest records (``anatomical`` for manifests older than the field)."""
    return str(json.loads(Path(datalist).read_text()).get("lung_convention", "anatomical"))


def _file_digest(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def split_by_patient(
    patients: dict[str, list[dict[str, Any]]], fractions: tuple[float, float, float], seed: int
) -> dict[str, list[dict[str, Any]]]:
    """Assign whole patients to training/validation/test so that image counts approach ``fractions``.

    Patients are shuffled with ``seed``; test and validation are filled first (to at least their share of
    images), the rest is training. One patient's images never straddle two splits.
    """
    order = sorted(patients)
    random.Random(seed).shuffle(order)
    total = sum(len(v) for v in patients.values())
    targets = {"test": fractions[2] * total, "validation": fractions[1] * total}
    split: dict[str, list[dict[str, Any]]] = {name: [] for name in SPLITS}
    for patient in order:
        name = next((s for s in ("test", "validation") if len(split[s]) < targets[s]), "training")
        split[name].extend(patients[patient])
    return split


def build_manifest(
    root: str | Path,
    layout: str | None = None,
    metadata_csv: str | Path | None = None,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = 0,
) -> tuple[dict[str, Any], ManifestReport]:
    """Scan a dataset folder and return ``(datalist, report)``.

    Args:
        root: dataset folder in a layout of :mod:`lungseg_monai.data.layouts`.
        layout: force a layout instead of detecting it.
        metadata_csv: CSV mapping ``filename`` to ``patientid``; defaults to ``root/SOURCE_metadata.csv`` when
            present. Without it every image is its own patient (true for Montgomery and Shenzhen).
        fractions: training/validation/test shares of the images.
        seed: the split's random seed.

    Returns:
        The datalist (paths relative to ``root``, with the set's ``lung_convention``) and a report of refused
        images (no mask, duplicate, unreadable, mask size mismatch, empty mask).

    """
    root = Path(root)
    if abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"split fractions {fractions} do not add up to 1")
    metadata_csv = metadata_csv or (root / "SOURCE_metadata.csv" if (root / "SOURCE_metadata.csv").is_file() else None)
    patient_ids = load_patient_ids(metadata_csv) if metadata_csv else {}
    report, seen, patients, heart_shares = ManifestReport(), {}, defaultdict(list), []
    for case in find_cases(root, layout):
        reason = _check_case(root, case)
        digest = _file_digest(root / case.image) if reason is None else ""
        if reason is None and digest in seen:
            reason = f"duplicate of {seen[digest]}"
        if reason:
            report.refuse(case.image, reason)
            continue
        seen[digest] = case.image
        share = _lung_share_in_heart(root, case)
        if share is not None:
            heart_shares.append(share)
        name = Path(case.image).name
        entry = {"image": case.image, **case.masks, "patient_id": patient_ids.get(name, Path(name).stem)}
        report.kept.append(entry)
        patients[entry["patient_id"]].append(entry)
    convention, convention_source = lung_convention_of(heart_shares)
    datalist = {
        "name": root.name,
        "description": f"lung masks of {root.name}; paths relative to the dataset_dir",
        "seed": seed,
        "split_fractions": list(fractions),
        "split_unit": "patient_id",
        "lung_convention": convention,
        "lung_convention_source": convention_source,
        **split_by_patient(patients, fractions, seed),
        "refused": report.refused,
    }
    return datalist, report


def main(argv: list[str] | None = None) -> int:
    """Command line: ``lungseg-manifest DATASET_DIR OUTPUT_JSON [--layout L] [--metadata CSV] [--seed N]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset_dir")
    parser.add_argument("output")
    parser.add_argument("--layout", choices=LAYOUTS)
    parser.add_argument("--metadata", help="CSV with filename and patientid columns")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fractions", type=float, nargs=3, default=(0.7, 0.15, 0.15))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    fractions = tuple(args.fractions)
    try:
        datalist, report = build_manifest(args.dataset_dir, args.layout, args.metadata, fractions, args.seed)
    except FileNotFoundError as error:  # no such folder, or no image folder of a known layout in it
        parser.error(str(error))
    text = json.dumps(datalist, indent=4) + "\n"
    write_atomic(args.output, lambda path: path.write_text(text))
    counts = ", ".join(f"{name} {len(datalist[name])}" for name in SPLITS)
    logger.info("wrote %s: %s; refused %d", args.output, counts, len(report.refused))
    return 0
