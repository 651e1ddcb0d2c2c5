"""Find a bundle and build its ``inference.json`` workflow with literal overrides (for ``lungseg`` and the node)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lungseg_monai import __version__
from lungseg_monai.inference.usage import UsageError
from lungseg_monai.paths import bundle_config_files, bundle_path

if TYPE_CHECKING:
    from monai.bundle import ConfigWorkflow

__all__ = ["resolve_bundle", "inference_workflow", "shipped_versions", "warn_unless_shipped"]

logger = logging.getLogger(__name__)

_SHIPPED = ("unet", "pix2pix")


def resolve_bundle(name_or_path: str) -> Path:
    """Return the folder of bundle ``unet``, ``pix2pix`` or of a bundle folder.

    Raises:
        UsageError: neither a shipped name nor a folder with ``configs/{train,inference,metadata}.json``.

    """
    path = Path(name_or_path)
    if all((path / "configs" / name).is_file() for name in ("train.json", "inference.json", "metadata.json")):
        return path
    if name_or_path in _SHIPPED:
        return Path(bundle_path(name_or_path))
    needs = "configs/train.json, inference.json, metadata.json"
    raise UsageError(f"--bundle {name_or_path}: neither unet, pix2pix nor a bundle folder ({needs})")


def shipped_versions() -> str:
    """Return ``lungseg_monai <version>`` and the version of each shipped bundle (its ``metadata.json``)."""
    bundles = []
    for name in _SHIPPED:
        try:
            metadata = Path(bundle_path(name)) / "configs" / "metadata.json"
            bundles.append(f"{name} {json.loads(metadata.read_text(encoding='utf-8'))['version']}")
        except (OSError, ValueError, KeyError):
            bundles.append(f"{name} not found")
    return f"lungseg_monai {__version__} (bundles: {', '.join(bundles)})"


def warn_unless_shipped(bundle: Path) -> None:
    """Log a warning when ``bundle`` is not one shipped with the package: its configs run code."""
    shipped = []
    for name in _SHIPPED:
        try:
            shipped.append(Path(bundle_path(name)).resolve())
        except FileNotFoundError:
            continue
    if bundle.resolve() not in shipped:
        logger.warning("bundle %s is not shipped with lungseg_monai: its configs run code; trust its source", bundle)


def inference_workflow(bundle: Path, **overrides: Any) -> ConfigWorkflow:
    """Build ``bundle``'s ``inference.json`` workflow (on top of ``train.json``) with ``overrides``.

    Its ``run`` is the evaluator's run (``inferring``): ``inference.json``'s own ``run`` would also end the
    process with the exit code. Give paths as ``Path`` objects: MONAI's parser takes only strings as expressions
    (``$``), references (``@``) or macros (``%``), so a folder named ``$x`` or ``@y`` stays a name.
    """
    from monai.bundle import ConfigWorkflow  # MONAI loads once a run starts: the checks before it answer at once

    configs = bundle / "configs"
    return ConfigWorkflow(
        config_file=bundle_config_files(bundle, "inference.json"),
        meta_file=str(configs / "metadata.json"),
        logging_file=False,
        workflow_type=None,
        run_id="inferring",
        bundle_root=bundle,
        **overrides,
    )
