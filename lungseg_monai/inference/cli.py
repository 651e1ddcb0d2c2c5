"""``lungseg``: segment a folder of radiographs with a shipped bundle (a thin front to ``monai.bundle run``).

Example:
    ``lungseg --bundle unet --input-dir /data/dicom --output-dir /data/lungseg-out``

"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from monai.bundle import run

from lungseg_monai.paths import bundle_path

__all__ = ["main"]


def _bundle_dir(name_or_path: str) -> Path:
    path = Path(name_or_path)
    return path if (path / "configs" / "inference.json").is_file() else Path(bundle_path(name_or_path))


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the bundle's ``inference.json`` and return 1 if any file failed, else 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default="unet", help="unet, pix2pix or a bundle folder")
    parser.add_argument("--input-dir", required=True, help="folder searched recursively for DICOM/PNG/JPEG")
    parser.add_argument("--output-dir", required=True, help="where outputs go (never inside the input folder)")
    parser.add_argument("--overwrite", action="store_true", help="redo images that already have outputs")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--num-workers", type=int, default=2, help="processes that decode and preprocess")
    parser.add_argument("--writer-threads", type=int, default=1, help="threads that post-process and write")
    parser.add_argument("--no-dicom-seg", action="store_true", help="do not write DICOM SEG objects")
    parser.add_argument("--no-nifti", action="store_true", help="do not write NIfTI masks")
    parser.add_argument("--no-overlay", action="store_true", help="do not write overlay PNGs")
    args = parser.parse_args(argv)
    bundle = _bundle_dir(args.bundle)
    configs = bundle / "configs"
    logging.getLogger("highdicom").setLevel(logging.WARNING)
    try:
        run(
            config_file=str(configs / "inference.json"),
            meta_file=str(configs / "metadata.json"),
            logging_file=str(configs / "logging.conf"),
            bundle_root=str(bundle),
            input_dir=args.input_dir,
            output_dir=args.output_dir,
            overwrite=args.overwrite,
            batch_size=args.batch_size,
            num_workers=args.num_workers,
            writer_threads=args.writer_threads,
            write_dicom_seg=not args.no_dicom_seg,
            write_nifti=not args.no_nifti,
            write_overlay=not args.no_overlay,
        )
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0
