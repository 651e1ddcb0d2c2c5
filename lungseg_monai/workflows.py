"""Build a shipped bundle's MONAI ``ConfigWorkflow`` from Python (tests, benchmarks, notebooks)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monai.bundle import ConfigWorkflow

from lungseg_monai.paths import bundle_path

__all__ = ["bundle_workflow"]


def bundle_workflow(
    bundle: str,
    config: str | Sequence[str],
    workflow_type: str | None = "train",
    initialize: bool = True,
    **override: Any,
) -> ConfigWorkflow:
    """Return the workflow of ``config`` of the shipped ``bundle``, with the bundle's metadata and logging.

    Args:
        bundle: ``unet`` or ``pix2pix``.
        config: a file name in the bundle's ``configs/`` (``train.json``), or paths of configs to overlay.
        workflow_type: MONAI's workflow type (``train``, ``infer``...), or None.
        initialize: call ``initialize()`` before returning.
        override: config ids and their values (``num_epochs=1``, ``**{"train#dataset#cache_rate": 0}``).

    Example:
        >>> workflow = bundle_workflow("unet", "inference.json", "infer", input_dir="/data/films")

    """
    configs = Path(bundle_path(bundle)) / "configs"
    config_file = str(configs / config) if isinstance(config, str) else [str(path) for path in config]
    workflow = ConfigWorkflow(
        config_file=config_file,
        meta_file=str(configs / "metadata.json"),
        logging_file=str(configs / "logging.conf"),
        workflow_type=workflow_type,
        **override,
    )
    if initialize:
        workflow.initialize()
    return workflow
