r"""Time the per-image output writers on one real film's mask: PNG encoders, the NIfTI writer, a warm DICOM SEG.

PNG: Pillow at zlib levels 1-9 against the package's ``encode_png`` (unfiltered rows for masks, the "Up" filter for
overlays) with its ISA-L deflate at level 1, and with zlib at level 1 in its place (0.6.1's encoder: run-length
coded for masks). NIfTI: ``write_mask_nifti`` (ISA-L's gzip) and zlib's gzip of the same bytes. The overlay's
outline of the mask at preview size: SciPy's erosion against ``writers.outline``.

Usage (a mask from a folder run of the shared DICOMs):
    lungseg --input-dir ../shared/data/dicom --output-dir /tmp/dicom-out
    python docs/experiments/output_write_costs.py /tmp/dicom-out/pylibjpeg-data/966_fixed.dcm.mask.png \\
        ../shared/data/dicom/pylibjpeg-data/966_fixed.dcm \\
        --overlay /tmp/dicom-out/nhsx_nccid/*50252582267888.dcm.overlay.png
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import time
import zlib
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import numpy as np
from PIL import Image
from scipy import ndimage

from lungseg_monai.data import png_encoding
from lungseg_monai.data.png_encoding import encode_png
from lungseg_monai.inference.dicom_seg import write_dicom_seg
from lungseg_monai.inference.writers import outline, write_mask_nifti

#: Row filter of each output and the zlib strategy 0.6.1's encoder used with it.
_ZLIB_STRATEGY = {"none": zlib.Z_RLE, "up": zlib.Z_DEFAULT_STRATEGY}


def _best_ms(action, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return 1000 * best


def _time_encode_png(what: str, pixels: np.ndarray, target: Path, row_filter: str) -> None:
    ms = _best_ms(lambda: target.write_bytes(encode_png(pixels, row_filter, 1)))
    assert np.array_equal(np.asarray(Image.open(target)), pixels), "encode_png changed the pixels"
    size = target.stat().st_size / 1000
    print(f"{what}, encode_png ({row_filter!r} filter), ISA-L level 1: {ms:6.1f} ms, {size:6.1f} kB")

    def zlib_level_1(data, level):
        compressor = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS, 9, _ZLIB_STRATEGY[row_filter])
        return compressor.compress(data) + compressor.flush()

    with mock.patch.object(png_encoding, "isal_zlib", SimpleNamespace(compress=zlib_level_1)):
        ms = _best_ms(lambda: target.write_bytes(encode_png(pixels, row_filter, 1)))
    assert np.array_equal(np.asarray(Image.open(target)), pixels), "the zlib variant changed the pixels"
    size = target.stat().st_size / 1000
    print(f"{what}, encode_png ({row_filter!r} filter), zlib level 1 (0.6.1): {ms:6.1f} ms, {size:6.1f} kB")


def _time_outline(mask: np.ndarray, max_side: int = 1024) -> None:
    step = int(np.ceil(max(mask.shape) / max_side))
    preview = mask[::step, ::step]
    thickness = max(1, min(preview.shape) // 400)
    scipy_ms = _best_ms(lambda: preview & ~ndimage.binary_erosion(preview, iterations=thickness))
    ours_ms = _best_ms(lambda: outline(preview, thickness))
    print(
        f"overlay outline of the {preview.shape[1]}x{preview.shape[0]} preview mask, thickness {thickness}: "
        f"SciPy erosion {scipy_ms:5.1f} ms, writers.outline {ours_ms:5.1f} ms"
    )


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
    for level in (0, 1, 3, 6, 9):  # level 0 stores without compressing: what is left is the row filtering
        ms = _best_ms(lambda level=level: image.save(folder / "m.png", format="PNG", compress_level=level))
        print(f"mask PNG, zlib level {level}: {ms:6.1f} ms, {(folder / 'm.png').stat().st_size / 1000:6.1f} kB")
    _time_encode_png("mask PNG", np.asarray(image), folder / "m.png", "none")
    _time_outline(mask)
    if args.overlay:
        overlay = Image.open(args.overlay).convert("RGB")
        for level in (1, 3, 6):
            ms = _best_ms(lambda level=level: overlay.save(folder / "o.png", format="PNG", compress_level=level))
            size = (folder / "o.png").stat().st_size / 1000
            print(f"overlay PNG {overlay.width}x{overlay.height}, zlib level {level}: {ms:6.1f} ms, {size:6.1f} kB")
        _time_encode_png(f"overlay PNG {overlay.width}x{overlay.height}", np.asarray(overlay), folder / "o.png", "up")
    nifti_ms = _best_ms(lambda: write_mask_nifti(folder / "m.nii.gz", mask, None))
    size = (folder / "m.nii.gz").stat().st_size / 1000
    print(f"mask NIfTI (write_mask_nifti, ISA-L gzip level 1): {nifti_ms:6.1f} ms, {size:6.1f} kB")
    nifti = gzip.decompress((folder / "m.nii.gz").read_bytes())
    zlib_ms = _best_ms(lambda: gzip.compress(nifti, compresslevel=1, mtime=0))
    size = len(gzip.compress(nifti, compresslevel=1, mtime=0)) / 1000
    print(f"  its bytes through zlib's gzip at level 1 (0.6.1), compression alone: {zlib_ms:6.1f} ms, {size:6.1f} kB")
    structures = {"right_lung": mask, "left_lung": mask, "cardiomediastinum": mask}  # three full-size segments
    write_dicom_seg(folder / "s.dcm", args.source_dicom, structures, "lungseg_unet", "0")  # highdicom's start
    seg_ms = _best_ms(lambda: write_dicom_seg(folder / "s.dcm", args.source_dicom, structures, "lungseg_unet", "0"))
    print(f"DICOM SEG once warm: {seg_ms:6.1f} ms")


if __name__ == "__main__":
    main()
