"""Array transforms for radiographs and lung masks (one sample, channel-first)."""

from __future__ import annotations

import numpy as np
import torch
from monai.data import MetaTensor
from monai.data.utils import to_affine_nd
from monai.transforms import Resize, Transform
from monai.transforms.utils import scale_affine
from monai.utils import ImageMetaKey, MetaKeys
from torch.nn.functional import interpolate

from lungseg_monai.data.errors import MaskError
from lungseg_monai.data.mask_scale import mask_upscale_factor

__all__ = ["MergeLungMasks", "ResizeToMatch", "binarize_mask", "mask_at_size_of", "source_name"]

#: Label values of the 3-class (per-lung) label.
BACKGROUND, RIGHT_LUNG, LEFT_LUNG = 0, 1, 2


def source_name(tensor: torch.Tensor) -> str:
    """Return the file a MetaTensor was loaded from, or ``"<array>"``."""
    meta = getattr(tensor, "meta", {}) or {}
    return str(meta.get(ImageMetaKey.FILENAME_OR_OBJ, "<array>"))


def binarize_mask(mask: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Binarize a 0/1 or 0/255 mask (values above half of 255 for 8-bit masks, above 0.5 for 0/1 masks)."""
    mask = torch.as_tensor(mask)
    threshold = 127.5 if float(mask.max()) > 1.0 else 0.5
    return (mask > threshold).to(torch.float32)


class MergeLungMasks(Transform):
    """Merge a right-lung and a left-lung mask into one label.

    Args:
        multiclass: False gives a binary lung label (1 = lung); True gives background / right lung (1) /
            left lung (2), where overlap goes to the left lung.
        require_both: raise when either mask is empty (an incomplete annotation).

    """

    def __init__(self, multiclass: bool = False, require_both: bool = True) -> None:
        self.multiclass = multiclass
        self.require_both = require_both

    def __call__(self, right: torch.Tensor, left: torch.Tensor, reference: torch.Tensor | None = None) -> torch.Tensor:
        """Return the merged label at the size of ``reference`` (the image), else of ``right``.

        Masks must match the reference in size, except masks published at exactly ``1/k`` of it (JSRT's SCR
        masks are 1024 px for 2048 px films), which are upsampled by repeating pixels.
        """
        right, left = (mask_at_size_of(mask, reference if reference is not None else right) for mask in (right, left))
        right_bin, left_bin = binarize_mask(right), binarize_mask(left)
        if self.require_both:
            for name, mask, source in (("right", right_bin, right), ("left", left_bin, left)):
                if not mask.any():
                    raise MaskError(f"{name} lung mask {source_name(source)} is empty")
        if self.multiclass:
            merged = torch.where(left_bin > 0, float(LEFT_LUNG), right_bin * RIGHT_LUNG)
        else:
            merged = torch.clamp(right_bin + left_bin, max=1.0)
        if isinstance(right, MetaTensor):
            merged = MetaTensor(merged.as_tensor() if isinstance(merged, MetaTensor) else merged, meta=right.meta)
        return merged


def mask_at_size_of(mask: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Return ``mask`` at ``reference``'s size: as is, or upsampled by repeating pixels when it is exactly 1/k.

    Raises:
        MaskError: any other size mismatch (naming both files).

    """
    if tuple(mask.shape[-2:]) == tuple(reference.shape[-2:]):
        return mask
    factor = mask_upscale_factor(mask.shape, reference.shape)
    if factor is None:
        raise MaskError(
            f"mask {source_name(mask)} is {_size(mask)}, image {source_name(reference)} is {_size(reference)}"
        )
    upsampled = mask.repeat_interleave(factor, dim=-2).repeat_interleave(factor, dim=-1)
    if isinstance(upsampled, MetaTensor):
        upsampled.meta[MetaKeys.SPATIAL_SHAPE] = np.asarray(upsampled.shape[-2:])
    return upsampled


def _size(tensor: torch.Tensor) -> str:
    rows, columns = tuple(tensor.shape[-2:])
    return f"{columns}x{rows}"


class ResizeToMatch(Transform):
    """Resize a channel-first image to the spatial shape of a reference image, and binarize it on request.

    Maps a network-sized prediction back onto the original pixel grid with a smooth interpolation, whatever
    (cheap, box-filter) resize brought the image down: ``Invertd`` would upsample with the forward mode, and
    ``area`` upsampling repeats pixels, giving staircase mask edges.

    Args:
        mode: ``torch.nn.functional.interpolate`` mode for the resize (``bilinear`` for probabilities).
        threshold: when given, return the boolean mask ``resized >= threshold``, computed one channel at a time:
            the same mask as resizing all channels and then thresholding, without a full-size float copy of every
            channel. torch upsamples one channel faster than three channels together, most of all on one thread
            (the bundles' post-processing of the 84 cxr-lung-lr films: 2.7 against 4.5 s on one torch thread, as
            torchrun gives each process, 2.2 against 2.3 s on two; ``docs/experiments/resize_variants.py``).

    """

    def __init__(self, mode: str = "bilinear", threshold: float | None = None) -> None:
        self.mode = mode
        self.threshold = threshold

    def __call__(self, img: torch.Tensor, img_dst: torch.Tensor) -> torch.Tensor:
        """Return ``img`` resized to ``img_dst``'s file shape (unchanged when the shapes already match).

        That is ``img_dst.meta["original_shape"]`` when ``img_dst`` was decoded at a reduced resolution
        (``RadiographReader(min_side=...)``), else ``img_dst.shape[1:]``. With a ``threshold``, the boolean mask.
        """
        original = getattr(img_dst, "meta", {}).get("original_shape")
        source = img_dst.shape[1:] if original is None else np.asarray(original).ravel()
        shape = tuple(int(n) for n in source)
        if tuple(img.shape[1:]) == shape:
            return img if self.threshold is None else img >= self.threshold
        if self.threshold is None:
            return Resize(spatial_size=shape, mode=self.mode, anti_aliasing=False)(img)
        # torch's interpolate as MONAI's Resize calls it (float32, align_corners None), without Resize's metadata
        # work for each channel; the mask's metadata are the probabilities', with the affine of the film's grid as
        # Resize gives it.
        values = (img.as_tensor() if isinstance(img, MetaTensor) else img).to(torch.float32)
        mask = torch.cat(
            [interpolate(channel[None, None], size=shape, mode=self.mode)[0] >= self.threshold for channel in values]
        )
        if not isinstance(img, MetaTensor):
            return mask
        scale = scale_affine(tuple(img.shape[1:]), shape, align_corners=False)
        affine = img.affine.to(torch.float64) @ to_affine_nd(img.affine.shape[-1] - 1, scale, dtype=torch.float64)
        meta = {key: value for key, value in img.meta.items() if key != MetaKeys.AFFINE}
        return MetaTensor(mask, affine=affine, meta=meta)
