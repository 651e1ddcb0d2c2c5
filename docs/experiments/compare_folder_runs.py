"""Compare the masks and quality flags of two folder runs (``lungseg`` output folders) image by image.

Usage (the 0.4.0 float16 weights against the 0.3.0 float32 ones on the shared DICOM folder):
    git show 97ad078:bundles/unet/models/model.pt > /tmp/unet-0.3.0.pt
    python -m monai.bundle run \
        --config_file "['bundles/unet/configs/train.json','bundles/unet/configs/inference.json']" \
        --bundle_root bundles/unet --ckpt_path /tmp/unet-0.3.0.pt --input_dir ../shared/data/dicom --output_dir /tmp/a
    lungseg --bundle unet --input-dir ../shared/data/dicom --output-dir /tmp/b
    python docs/experiments/compare_folder_runs.py /tmp/a /tmp/b

``--all-outputs`` also counts, per kind, the images whose other outputs differ in content (decoded pixel values;
the JSON record less its provenance and bundle version; the NIfTI header, affine and voxels; the SEG's pixel data,
frames, overlap flag and segment labels): for changes that must not change any output, only how it is written.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
from PIL import Image


def _record(path: Path) -> dict:
    record = json.loads(path.read_text())
    record.pop("provenance", None)
    record.pop("bundle_version", None)
    return record


def _nifti(path: Path) -> tuple:
    image = nib.load(path)
    return bytes(image.header.binaryblock), image.affine.tobytes(), np.asarray(image.dataobj).tobytes()


def _seg(path: Path) -> tuple:
    seg = pydicom.dcmread(path)
    return seg.PixelData, seg.NumberOfFrames, seg.SegmentsOverlap, [s.SegmentLabel for s in seg.SegmentSequence]


def _pixels(path: Path) -> bytes:
    return np.asarray(Image.open(path)).tobytes()


#: How each output is read for the comparison of contents.
_CONTENT = {
    ".json": _record,
    ".heart.png": _pixels,
    ".overlay.png": _pixels,
    ".mask.nii.gz": _nifti,
    ".seg.dcm": _seg,
}


def _count_differing_outputs(first: Path, second: Path) -> None:
    """Print, per output kind, how many of the first folder's outputs differ in content from the second's."""
    for suffix, read in _CONTENT.items():
        files = [f for f in sorted(first.rglob(f"*{suffix}")) if not f.name.startswith("run_summary")]
        differing = sum(read(f) != read(second / f.relative_to(first)) for f in files)
        print(f"{suffix:14s} {len(files):3d} files, {differing} with different contents")


def main() -> None:
    """Print Dice and whether the flags agree for every mask of the first folder; then the worst Dice."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--all-outputs", action="store_true", help="compare every output's contents as well")
    args = parser.parse_args()
    worst = 1.0
    for mask_file in sorted(args.first.rglob("*.mask.png")):
        rel = mask_file.relative_to(args.first)
        a = np.asarray(Image.open(mask_file)) > 0
        b = np.asarray(Image.open(args.second / rel)) > 0
        dice = 2 * np.sum(a & b) / (a.sum() + b.sum())
        worst = min(worst, dice)
        record = str(rel).removesuffix(".mask.png") + ".json"
        flags = [json.loads((folder / record).read_text())["flags"] for folder in (args.first, args.second)]
        print(f"{str(rel):80s} Dice {dice:.5f}  flags {'same' if flags[0] == flags[1] else flags}")
    print(f"worst Dice {worst:.5f}")
    if args.all_outputs:
        _count_differing_outputs(args.first, args.second)


if __name__ == "__main__":
    main()
