"""Build a shipped bundle's MONAI ``ConfigWorkflow`` from Python (tests, benchmarks, notebooks)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monai.bundle import ConfigWorkflow

from lungseg_monai.paths import bundle_config_files, bundle_path

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
        config: a config file name in the bundle's ``configs/``, or several: every config but ``train.json`` is an
            overlay read on top of ``train.json`` (``"inference.json"``, ``["inference.json", "inference_onnx.json"]``).
        workflow_type: MONAI's workflow type (``train``, ``infer``...), or None.
        initialize: call ``initialize()`` before returning.
        override: config ids and their values (``num_epochs=1``, ``**{"train#dataset#cache_rate": 0}``).

    Example:
        >>> workflow = bundle_workflow("unet", "inference.json", "infer", input_dir="/data/films")

    """
    bundle_dir = Path(bundle_path(bundle))
    configs = bundle_dir / "configs"
    names = [config] if isinstance(config, str) else list(config)
    override.setdefault("bundle_root", str(bundle_dir))
    workflow = ConfigWorkflow(
        config_file=bundle_config_files(bundle_dir, *names),
        meta_file=str(configs / "metadata.json"),
        logging_file=str(configs / "logging.conf"),
        workflow_type=workflow_type,
        **override,
    )
    if initialize:
        workflow.initialize()
    return workflow
