"""A conditional PatchGAN discriminator (Isola et al., 2017) on MONAI's ``PatchDiscriminator``."""

from __future__ import annotations

import re
from typing import Any

import torch
from monai.networks.nets import PatchDiscriminator

__all__ = ["ConditionalPatchDiscriminator", "patch_receptive_field"]

_KERNEL = 4
_PADDING = 1
#: Parameter names of lungseg_monai <= 0.3.1, whose discriminator was an ``nn.Sequential`` named ``model``.
_OLD_NAME = re.compile(r"^model\.(\d+)\.(.*)$")


def patch_receptive_field(num_layers: int) -> int:
    """Receptive field in pixels of one output logit: 70 for the default 3 strided layers.

    The network has ``num_layers`` stride-2 convolutions, then two stride-1 ones, all with kernel 4.
    """
    strides = [2] * num_layers + [1, 1]
    field = 1
    for stride in reversed(strides):
        field = (field - 1) * stride + _KERNEL
    return field


class ConditionalPatchDiscriminator(PatchDiscriminator):
    """Classify overlapping patches of an (image, mask) pair as real or generated.

    MONAI's ``PatchDiscriminator`` does the patch classification; what is ours is the conditioning: the radiograph
    and a real or generated mask are concatenated on the channel axis, so the discriminator judges the mask *given*
    the image (the conditional GAN of Pix2Pix), and only the final patch logits are returned (no activation: use
    them with ``monai.losses.PatchAdversarialLoss``), not MONAI's list of intermediate features.

    Args:
        spatial_dims: 2 for radiographs.
        image_channels: channels of the conditioning image.
        mask_channels: channels of the mask.
        num_filters: filters of the first layer, doubled at each further layer (MONAI's rule).
        num_layers: stride-2 layers; 3 gives the 70x70 PatchGAN, 2 a 34x34 and 4 a 142x142 one.
        norm: MONAI norm name for every layer but the first and last (``"batch"``, ``"instance"``, ...).

    Checkpoints of lungseg_monai 0.3.1 and earlier (parameters named ``model.<i>.*``) load unchanged: their
    names are mapped onto MONAI's (``initial_conv``, ``0`` ... ``final_conv``) on loading.

    Example:
        >>> d = ConditionalPatchDiscriminator()
        >>> d(torch.zeros(1, 1, 256, 256), torch.zeros(1, 1, 256, 256)).shape
        torch.Size([1, 1, 30, 30])

    """

    def __init__(
        self,
        spatial_dims: int = 2,
        image_channels: int = 1,
        mask_channels: int = 1,
        num_filters: int = 64,
        num_layers: int = 3,
        norm: str | tuple = "batch",
    ) -> None:
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        super().__init__(
            spatial_dims=spatial_dims,
            channels=num_filters,
            in_channels=image_channels + mask_channels,
            out_channels=1,
            num_layers_d=num_layers,
            kernel_size=_KERNEL,
            activation=("LEAKYRELU", {"negative_slope": 0.2}),
            norm=norm,
            bias=False,
            padding=_PADDING,
        )
        self.receptive_field = patch_receptive_field(num_layers)
        self._register_load_state_dict_pre_hook(self._rename_old_parameters)

    def forward(self, image: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        """Return patch logits for ``image`` conditioned pairs; pass ``mask=None`` for a pre-concatenated input."""
        x = image if mask is None else torch.cat([image, mask], dim=1)
        return super().forward(x)[-1]

    def _rename_old_parameters(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        last = len(list(self.children())) - 1
        for key in [k for k in state_dict if k.startswith(prefix + "model.")]:
            match = _OLD_NAME.match(key[len(prefix) :])
            if match is None:
                continue
            index = int(match.group(1))
            name = "initial_conv" if index == 0 else "final_conv" if index == last else str(index - 1)
            state_dict[f"{prefix}{name}.{match.group(2)}"] = state_dict.pop(key)
