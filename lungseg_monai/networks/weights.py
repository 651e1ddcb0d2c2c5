"""Load bundle weights into networks, and check them against the SHA-256 the bundle records."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import torch
import yaml

from lungseg_monai.data.checksums import file_sha256

__all__ = ["WeightsMismatchError", "load_model_weights", "init_from_checkpoint", "copy_with_weights", "verified_sha256"]

#: The model-zoo file that lists a bundle's large files with their URL and hash.
LARGE_FILES = "large_files.yml"


class WeightsMismatchError(ValueError):
    """A weights file differs from the one its bundle's ``large_files.yml`` records (damaged or replaced)."""


def _recorded_sha256(weights: Path, bundle_root: Path) -> str | None:
    """Return the SHA-256 that ``bundle_root/large_files.yml`` records for ``weights``; None if not listed."""
    listing = bundle_root / LARGE_FILES
    if not listing.is_file():
        return None
    entries = (yaml.safe_load(listing.read_text()) or {}).get("large_files", [])
    for entry in entries:
        if (bundle_root / entry["path"]).resolve() == weights.resolve() and entry.get("hash_type") == "sha256":
            return str(entry["hash_val"])
    return None


def verified_sha256(weights: str | Path, bundle_root: str | Path) -> str:
    """Return the SHA-256 of ``weights``, checked against the bundle's ``large_files.yml`` where it lists the file.

    Raises:
        WeightsMismatchError: the file's SHA-256 is not the recorded one.
        FileNotFoundError: the weights file is missing.

    """
    weights = Path(weights)
    if not weights.is_file():
        raise FileNotFoundError(f"{weights}: weights file not found")
    digest = file_sha256(weights)
    recorded = _recorded_sha256(weights, Path(bundle_root))
    if recorded is not None and recorded != digest:
        raise WeightsMismatchError(
            f"{weights}: SHA-256 {digest[:12]}... is not the {recorded[:12]}... recorded in {LARGE_FILES} "
            "(a damaged or replaced weights file)"
        )
    return digest


logger = logging.getLogger(__name__)


def load_model_weights(ckpt_path: str, device: str | torch.device = "cpu") -> dict:
    """Load a bundle's ``model.pt`` state dict, whether saved bare or as ``{"model": state_dict}``."""
    state = torch.load(ckpt_path, map_location=device, weights_only=True)
    nested = isinstance(state, dict) and isinstance(state.get("model"), dict)
    return state["model"] if nested else state


def init_from_checkpoint(network: torch.nn.Module, ckpt_path: str | None) -> torch.nn.Module:
    """Initialise ``network`` from ``ckpt_path`` (e.g. a Pix2Pix generator from the U-Net bundle); None: no-op."""
    if ckpt_path:
        network.load_state_dict(load_model_weights(ckpt_path, next(network.parameters()).device))
        logger.info("initialised %s from %s", type(network).__name__, ckpt_path)
    return network


def copy_with_weights(network: torch.nn.Module, ckpt_path: str) -> torch.nn.Module:
    """Return a copy of ``network`` (its architecture, device and memory format) with the weights of ``ckpt_path``.

    In eval mode: the bundles' second network (``second_opinion_network``) is their U-Net (``unet_def``, the U-Net
    bundle; ``network_def``, the Pix2Pix generator) with other weights.
    """
    second = copy.deepcopy(network)
    second.load_state_dict(load_model_weights(ckpt_path, next(second.parameters()).device))
    logger.debug("a copy of %s with the weights of %s", type(network).__name__, ckpt_path)
    return second.eval()
