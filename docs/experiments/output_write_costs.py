r"""Time the per-image output writers on one real film's mask: PNG zlib levels, the NIfTI writer, a warm DICOM SEG.

Usage (a mask from a folder run of the shared DICOMs):
    lungseg --input-dir ../shared/data/dicom --output-dir /tmp/dicom-out
    python docs/experiments/output_write_costs.py /tmp/dicom-out/pylibjpeg-data/966_fixed.dcm.mask.png \\
        ../shared/data/dicom/pylibjpeg-data/966_fixed.dcm \\
        --overlay /tmp/dicom-out/pylibjpeg-data/50252582267888.dcm.overlay.png
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from lungseg_monai.inference.dicom_seg import write_dicom_seg
from lungseg_monai.inference.writers import write_mask_nifti


def _best_ms(action, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return 1000 * best


def main() -> None:
    """Print best-of-5 milliseconds (and sizes) of each way of writing the mask."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mask_png", type=Path)
    parser.add_argument("source_dicom", type=Path)
    parser.add_argument("--overlay", type=Path, help="an overlay PNG of a folder run, to time its zlib levels")
    args = parser.parse_args()
    mask = np.asarray(Image.open(args.mask_png)) > 0
    folder = Path(tempfile.mkdtemp())
    image = Image.fromarray(np.where(mask, 255, 0).astype(np.uint8), mode="L")
    print(f"mask {mask.shape[1]}x{mask.shape[0]}")
    for level in (1, 3, 6, 9):
        ms = _best_ms(lambda level=level: image.save(folder / "m.png", format="PNG", compress_level=level))
        print(f"mask PNG, zlib level {level}: {ms:6.1f} ms, {(folder / 'm.png').stat().st_size / 1000:6.1f} kB")
    if args.overlay:
        overlay = Image.open(args.overlay).convert("RGB")
        for level in (1, 3, 6):
            ms = _best_ms(lambda level=level: overlay.save(folder / "o.png", format="PNG", compress_level=level))
            size = (folder / "o.png").stat().st_size / 1000
            print(f"overlay PNG {overlay.width}x{overlay.height}, zlib level {level}: {ms:6.1f} ms, {size:6.1f} kB")
    nifti_ms = _best_ms(lambda: write_mask_nifti(folder / "m.nii.gz", mask, None))
    print(f"mask NIfTI (write_mask_nifti): {nifti_ms:6.1f} ms")
    structures = {"right_lung": mask, "left_lung": mask, "cardiomediastinum": mask}  # three full-size segments
    write_dicom_seg(folder / "s.dcm", args.source_dicom, structures, "lungseg_unet", "0")  # highdicom's start
    seg_ms = _best_ms(lambda: write_dicom_seg(folder / "s.dcm", args.source_dicom, structures, "lungseg_unet", "0"))
    print(f"DICOM SEG once warm: {seg_ms:6.1f} ms")


if __name__ == "__main__":
    main()
