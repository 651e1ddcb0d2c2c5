"""A conditional PatchGAN discriminator (Isola et al., 2017) built from MONAI ``Convolution`` blocks."""

from __future__ import annotations

import torch
from monai.networks.blocks import Convolution
from torch import nn

__all__ = ["ConditionalPatchDiscriminator", "patch_receptive_field"]

_KERNEL = 4
_PADDING = 1


def patch_receptive_field(num_layers: int) -> int:
    """Receptive field in pixels of one output logit: 70 for the default 3 strided layers.

    The network has ``num_layers`` stride-2 convolutions, then two stride-1 ones, all with kernel 4.
    """
    strides = [2] * num_layers + [1, 1]
    field = 1
    for stride in reversed(strides):
        field = (field - 1) * stride + _KERNEL
    return field


class ConditionalPatchDiscriminator(nn.Module):
    """Classify overlapping patches of an (image, mask) pair as real or generated.

    The radiograph and a real or generated mask are concatenated on the channel axis, so the discriminator
    judges the mask *given* the image (the conditional GAN of Pix2Pix). The output is one raw logit per patch
    (no final activation): use it with ``monai.losses.PatchAdversarialLoss``.

    Args:
        spatial_dims: 2 for radiographs.
        image_channels: channels of the conditioning image.
        mask_channels: channels of the mask.
        num_filters: filters of the first layer; doubled at each strided layer up to 8x.
        num_layers: stride-2 layers; 3 gives the 70x70 PatchGAN, 2 a 34x34 and 4 a 142x142 one.
        norm: MONAI norm name for every layer but the first and last (``"batch"``, ``"instance"``, ...).

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
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        act = ("leakyrelu", {"negative_slope": 0.2})
        widths = [num_filters * min(2**i, 8) for i in range(num_layers + 1)]
        layers: list[nn.Module] = []
        in_channels = image_channels + mask_channels
        for index, width in enumerate(widths):
            stride = 2 if index < num_layers else 1
            layers.append(
                Convolution(
                    spatial_dims,
                    in_channels,
                    width,
                    strides=stride,
                    kernel_size=_KERNEL,
                    padding=_PADDING,
                    act=act,
                    norm=None if index == 0 else norm,
                    bias=index == 0,
                )
            )
            in_channels = width
        layers.append(
            Convolution(spatial_dims, in_channels, 1, strides=1, kernel_size=_KERNEL, padding=_PADDING, conv_only=True)
        )
        self.model = nn.Sequential(*layers)
        self.receptive_field = patch_receptive_field(num_layers)

    def forward(self, image: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Return patch logits for ``image`` conditioned pairs; pass ``mask=None`` for a pre-concatenated input."""
        x = image if mask is None else torch.cat([image, mask], dim=1)
        return self.model(x)
