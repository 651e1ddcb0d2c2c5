"""Load bundle weights into networks."""

from __future__ import annotations

import logging

import torch

__all__ = ["load_model_weights", "init_from_checkpoint"]

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
