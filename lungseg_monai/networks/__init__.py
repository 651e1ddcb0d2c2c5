"""Networks that MONAI does not provide."""

from __future__ import annotations

from lungseg_monai.networks.conditional_patch_discriminator import (
    ConditionalPatchDiscriminator,
    patch_receptive_field,
)
from lungseg_monai.networks.export import export_bundle_network
from lungseg_monai.networks.onnx_runtime import OnnxRuntimeNetwork
from lungseg_monai.networks.weights import (
    WeightsMismatchError,
    copy_with_weights,
    init_from_checkpoint,
    load_model_weights,
    verified_sha256,
)

__all__ = [
    "ConditionalPatchDiscriminator",
    "OnnxRuntimeNetwork",
    "WeightsMismatchError",
    "copy_with_weights",
    "export_bundle_network",
    "init_from_checkpoint",
    "load_model_weights",
    "patch_receptive_field",
    "verified_sha256",
]
