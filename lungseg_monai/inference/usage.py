"""Checks of a folder run's arguments, made before any work starts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lungseg_monai.run_errors import UsageError

__all__ = ["UsageError", "check_at_least", "check_folders", "check_inputs", "check_listed_files", "check_run_options"]


def _check_output_not_a_file(output_dir: Path) -> None:
    if output_dir.exists() and not output_dir.is_dir():
        raise UsageError(f"--output-dir {output_dir}: exists and is not a folder")


def check_inputs(
    input_dir: Path, files: Sequence[str | Path] | None, output_dir: Path, argument: str = "--input-dir"
) -> None:
    """Check a run's input and output before any work: a whole folder (``files`` None) or files of ``input_dir``.

    Raises:
        UsageError: from :func:`check_folders` or :func:`check_listed_files`.

    """
    if files is None:
        check_folders(input_dir, output_dir, argument)
    else:
        check_listed_files([input_dir / file for file in files], output_dir)


def check_folders(input_dir: Path, output_dir: Path, argument: str = "--input-dir") -> None:
    """Refuse a missing input folder and an output folder that is a file, inside the input or around it.

    Raises:
        UsageError: naming the argument (``argument`` for the input folder) and the problem.

    """
    if not input_dir.exists():
        raise UsageError(f"{argument} {input_dir}: no such folder")
    if not input_dir.is_dir():
        raise UsageError(f"{argument} {input_dir}: not a folder")
    _check_output_not_a_file(output_dir)
    inputs, outputs = input_dir.resolve(), output_dir.resolve()
    if outputs == inputs or inputs in outputs.parents:
        raise UsageError(f"--output-dir {output_dir} is inside the input folder {input_dir}; choose another folder")
    if outputs in inputs.parents:
        raise UsageError(f"--output-dir {output_dir} contains the input folder {input_dir}; choose another folder")


def check_listed_files(files: list[Path], output_dir: Path) -> None:
    """Refuse an output folder that is a file, holds one of ``files``, or is (inside) the folder one of them is in.

    The same rule as a folder run's: nothing is written where a later folder run over a film's folder would find it.

    Raises:
        UsageError: naming the argument and the problem.

    """
    _check_output_not_a_file(output_dir)
    outputs = output_dir.resolve()
    for file in files:
        folder = file.parent.resolve()
        if outputs == folder or folder in outputs.parents:
            raise UsageError(
                f"--output-dir {output_dir} is inside the folder of the input {file}; choose another folder"
            )
        if outputs in file.absolute().parents:
            raise UsageError(f"--output-dir {output_dir} contains the input {file}; choose another folder")


def check_at_least(name: str, value: int, minimum: int) -> None:
    """Refuse an integer argument below ``minimum``.

    Raises:
        UsageError: ``--name value: must be at least minimum``.

    """
    if value < minimum:
        raise UsageError(f"{name} {value}: must be at least {minimum}")


def check_run_options(batch_size: int, num_workers: int) -> None:
    """Refuse a batch size below 1 and a negative worker count.

    Raises:
        UsageError: naming the option (as ``lungseg`` spells it) and the problem.

    """
    check_at_least("--batch-size", batch_size, 1)
    check_at_least("--num-workers", num_workers, 0)
