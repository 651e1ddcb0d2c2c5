"""``lungseg``: segment radiographs (a folder, one file or a list) with a bundle (a front to its ``inference.json``).

Example:
    ``lungseg --bundle unet --input /data/dicom --output-dir /data/lungseg-out``

"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from lungseg_monai.conventions import CONVENTIONS
from lungseg_monai.data.errors import one_line
from lungseg_monai.inference.bundle_workflow import (
    inference_workflow,
    resolve_bundle,
    shipped_versions,
    warn_unless_shipped,
)
from lungseg_monai.inference.cli_logging import console_and_file_logging
from lungseg_monai.inference.exit_codes import EXIT_ERROR, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from lungseg_monai.inference.input_selection import select_inputs
from lungseg_monai.inference.shards import Shard
from lungseg_monai.inference.usage import UsageError, check_inputs, check_run_options
from lungseg_monai.run_errors import error_behind
from lungseg_monai.stop_signals import handled, settle

if TYPE_CHECKING:
    from monai.bundle import ConfigWorkflow

__all__ = ["main", "run_reporting_errors", "EXIT_ERROR"]

logger = logging.getLogger(__name__)

_EPILOG = f"""exit codes:
  {EXIT_OK}    every file done, already done, skipped or ignored
  {EXIT_FAILED}    some files failed (run_summary.csv says which and why)
  {EXIT_USAGE}    usage error (a bad argument; nothing was done)
  {EXIT_ERROR}    the run could not start or stopped on an error (details in <output-dir>/lungseg.log)
  {EXIT_INTERRUPTED}  interrupted by Ctrl-C or SIGTERM (run_summary marks the files not reached)

other commands:
  lungseg serve ...          a DICOM node (C-STORE SCP) that segments the films it receives (lungseg serve --help)
  lungseg segment-study ...  one study over DICOMweb (lungseg segment-study --help)
"""


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="lungseg",
        description=__doc__.splitlines()[0].replace("``", ""),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=shipped_versions())
    parser.add_argument("--bundle", default="unet", help="unet, pix2pix or a bundle folder")
    parser.add_argument(
        "--input",
        "--input-dir",
        dest="input",
        required=True,
        help="a folder (searched recursively for DICOM/PNG/JPEG), one file, or a text file (.txt, .lst, .list) "
        "listing files one per line (relative to the list's folder); --input-dir is the same option",
    )
    parser.add_argument("--output-dir", required=True, help="where outputs go (never inside the input folder)")
    parser.add_argument("--overwrite", action="store_true", help="redo images whose outputs are up to date")
    parser.add_argument("--batch-size", type=int, default=4, help="images per forward pass (>= 1)")
    parser.add_argument("--num-workers", type=int, default=2, help="processes that decode and preprocess (>= 0)")
    parser.add_argument("--no-dicom-seg", action="store_true", help="do not write DICOM SEG objects")
    parser.add_argument("--no-nifti", action="store_true", help="do not write NIfTI masks")
    parser.add_argument("--no-overlay", action="store_true", help="do not write overlay PNGs")
    parser.add_argument(
        "--overlay-full-size",
        action="store_true",
        help="overlays at the film's full size (default: 1024 px preview); implies --full-decode",
    )
    parser.add_argument(
        "--full-decode",
        action="store_true",
        help="decode every film at full resolution (default: JPEG 2000 and JPEG at >= 768 px on the shorter side; "
        "the masks are on the full grid either way)",
    )
    parser.add_argument(
        "--convention",
        choices=CONVENTIONS,
        help="what <name>.mask.png, the NIfTI and the SEG's lung segments hold: anatomical lungs (the part behind "
        "the heart included; the bundle default) or visible lung fields (stopping at the heart border)",
    )
    parser.add_argument(
        "--shard",
        metavar="I/N",
        help="do shard I of N (0 <= I < N) of the folder, e.g. one task of a SLURM job array; every shard writes "
        "into the same --output-dir and the last to finish leaves the merged run_summary",
    )
    return parser


def _check(args: argparse.Namespace) -> Path:
    """Check every argument before any work starts; return the bundle folder."""
    bundle = resolve_bundle(args.bundle)
    args.inputs = select_inputs(Path(args.input))
    check_inputs(args.inputs.input_dir, args.inputs.files, Path(args.output_dir), argument="--input")
    check_run_options(args.batch_size, args.num_workers)
    args.shard = Shard.parse(args.shard) if args.shard is not None else None
    return bundle


def _workflow(bundle: Path, args: argparse.Namespace) -> ConfigWorkflow:
    """Build the bundle's inference workflow with the arguments as overrides (paths as literal ``Path``)."""
    # Set only when asked for, so the bundle's own defaults (overlay_max_side, decode_min_side, shard from torchrun)
    # hold otherwise.
    optional = {"shard": args.shard} if args.shard is not None else {}
    if args.inputs.files is not None:
        optional["files"] = args.inputs.files
    if args.convention is not None:
        optional["convention"] = args.convention
    if args.overlay_full_size:
        optional["overlay_max_side"] = 0
    if args.full_decode or args.overlay_full_size:
        optional["decode_min_side"] = 0
    return inference_workflow(
        bundle,
        input_dir=args.inputs.input_dir,
        output_dir=Path(args.output_dir),
        overwrite=args.overwrite,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        write_dicom_seg=not args.no_dicom_seg,
        write_nifti=not args.no_nifti,
        write_overlay=not args.no_overlay,
        **optional,
    )


def _run(bundle: Path, args: argparse.Namespace) -> int:
    warn_unless_shipped(bundle)
    workflow = _workflow(bundle, args)
    workflow.initialize()
    try:
        workflow.run()
    finally:
        workflow.finalize()
    return int(workflow.parser.get_parsed_content("run_summary").exit_code)


def main(argv: list[str] | None = None) -> int:
    """Check the arguments, run the bundle's ``inference.json``; return the exit code (see ``lungseg --help``)."""
    try:
        args = _parser().parse_args(argv)
        bundle = _check(args)
    except UsageError as err:
        print(f"lungseg: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    # MONAI loads only now, so that --help and a mistyped argument are answered at once, and before the logging
    # set-up: its modules give their loggers console handlers of their own when imported, and the set-up sends the
    # loggers that have them to the log file instead.
    import_module("monai.bundle")
    with console_and_file_logging(Path(args.output_dir)) as log_file:
        return run_reporting_errors(lambda: _run(bundle, args), log_file)


def run_reporting_errors(run: Callable[[], int], log_file: Path) -> int:
    """Return ``run()``'s exit code; an interrupt or an error becomes one line on the console and its exit code.

    The traceback of an error goes to ``log_file``; a ``UsageError`` found while building the workflow is a usage
    error (exit 2), anything else exit 3, Ctrl-C or SIGTERM exit 130. Once the code is known it is settled: a stop
    signal after that no longer changes it (:mod:`lungseg_monai.stop_signals`).
    """
    with handled():
        code = _exit_code_of(run, log_file)
        settle()
        return code


def _exit_code_of(run: Callable[[], int], log_file: Path) -> int:
    try:
        return run()
    except KeyboardInterrupt:
        print("lungseg: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    # Anything else is not one file's problem: one line on the console, the traceback in the log file.
    except Exception as err:  # noqa: BLE001
        cause = error_behind(err)
        if isinstance(cause, UsageError):
            print(f"lungseg: error: {cause}", file=sys.stderr)
            return EXIT_USAGE
        logger.debug("the run stopped on an error", exc_info=err)
        message = f"{type(cause).__name__}: {one_line(cause)}"
        print(f"lungseg: error: {message} (traceback in {log_file})", file=sys.stderr)
        return EXIT_ERROR
