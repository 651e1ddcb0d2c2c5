"""One solid outline per structure: binarize, keep the largest connected component, fill its holes.

The result equals MONAI's ``AsDiscreted(threshold)`` + ``KeepLargestConnectedComponentd(is_onehot=True,
independent=True)`` + ``FillHolesd`` (full connectivity), each channel taken on its own (given a one-hot
prediction, MONAI's ``FillHoles`` leaves channel 0 unfilled as the background), at a fraction of their cost on a
full-size film: the labelling runs inside the mask's bounding box, and hole filling inside the kept component's
(MONAI fills by a binary dilation repeated until it stops, over the whole film: about 0.5 s for a 3000x2500 film
with three channels; timings by ``docs/experiments/mask_cleanup_costs.py``). A 2-D mask is labelled by OpenCV's
connected-component labelling, several times as fast as SciPy's on a film, with SciPy's result (:func:`label`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import cv2
import numpy as np
import torch
from monai.config import KeysCollection
from monai.transforms import MapTransform
from monai.utils import convert_to_dst_type, convert_to_numpy
from scipy import ndimage

__all__ = ["LargestFilledComponentd", "bounding_box", "label", "largest_component", "largest_filled_component"]


def largest_filled_component(mask: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Return the largest connected component of a boolean mask with its holes filled (full connectivity).

    A hole is a background region that does not reach the image border. Outside the component's bounding box
    everything is background, so a one-pixel frame around the box stands for the border: a background region of
    the box is a hole exactly when it does not touch that frame. The labelling runs inside the bounding box of the
    whole mask, a fraction of a film. ``out``, when given, is a zero-filled boolean array of the mask's shape to
    write the result into (a channel of a stacked result, so that no copy is needed to stack the channels).
    """
    result = np.zeros(mask.shape, dtype=bool) if out is None else out
    component = largest_component(mask)
    if component is None:
        return result
    piece, box = component
    background, _ = label(~np.pad(piece, 1))
    result[box] = (background != background[(0,) * mask.ndim])[(slice(1, -1),) * mask.ndim]
    return result


def largest_component(mask: np.ndarray) -> tuple[np.ndarray, tuple[slice, ...]] | None:
    """Return a boolean mask's largest connected component (full connectivity) within its bounding box, and the box.

    ``(piece, box)``: ``piece`` is the component cut to ``box``, the slices of ``mask``'s grid that hold it (its
    holes unfilled); None when ``mask`` is empty. The labelling runs inside the bounding box of the whole mask.
    """
    extent = bounding_box(mask)
    if extent is None:
        return None
    labels, count = label(mask[extent])
    if count == 1:  # the usual case for a network's mask: the component is the mask, its box the mask's
        return np.asarray(mask[extent], dtype=bool), extent
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    sizes[0] = 0
    tied = np.flatnonzero(sizes == sizes.max())
    # Of equal largest components, the first in raster order (SciPy numbers components in that order and keeps the
    # lowest number; OpenCV's numbers need not follow it).
    chosen = tied[0] if tied.size == 1 else min(tied, key=lambda number: int(np.argmax(labels.ravel() == number)))
    largest = labels == int(chosen)
    within = bounding_box(largest)  # ndimage.find_objects builds a box for every label: slower with many specks
    box = tuple(slice(e.start + w.start, e.start + w.stop) for e, w in zip(extent, within, strict=True))
    return largest[within], box


def label(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Return the connected components of a boolean mask (full connectivity) and their number; 0 is background.

    ``scipy.ndimage.label``'s components; a 2-D mask's by OpenCV's ``connectedComponents`` (8-connectivity: the
    same components, three to four times as fast on one thread, five to seven on two, on the largest films of
    cxr-lung-lr: ``docs/experiments/mask_cleanup_costs.py``), whose numbering may differ from SciPy's raster order.
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        return ndimage.label(mask, structure=ndimage.generate_binary_structure(mask.ndim, mask.ndim))
    count, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    return labels, count - 1


def bounding_box(mask: np.ndarray) -> tuple[slice, ...] | None:
    """Return the slices of the smallest box holding every True pixel of ``mask``; None when there is none."""
    box = []
    for axis in range(mask.ndim):
        occupied = np.flatnonzero(mask.any(axis=tuple(a for a in range(mask.ndim) if a != axis)))
        if occupied.size == 0:
            return None
        box.append(slice(int(occupied[0]), int(occupied[-1]) + 1))
    return tuple(box)


class LargestFilledComponentd(MapTransform):
    """Binarize each channel at ``threshold`` (``>=``), keep its largest component and fill that component's holes.

    Args:
        keys: channel-first predictions (probabilities, or masks when ``threshold`` is None).
        threshold: the probability a pixel needs to be in the mask; None takes any non-zero value (a boolean mask,
            such as ``ResizeToMatchd(threshold=...)`` gives, as it is).
        allow_missing_keys: skip keys that are not in the data.

    The output is boolean, in the input's container (tensor or array) with its meta data.

    """

    def __init__(self, keys: KeysCollection, threshold: float | None = 0.5, allow_missing_keys: bool = False) -> None:
        super().__init__(keys, allow_missing_keys)
        self.threshold = threshold

    def __call__(self, data: Mapping[Hashable, torch.Tensor | np.ndarray]) -> dict[Hashable, torch.Tensor | np.ndarray]:
        """Return a copy of ``data`` with each key's channels cleaned."""
        d = dict(data)
        for key in self.key_iterator(d):
            values = convert_to_numpy(d[key])
            # Without a threshold any non-zero value counts; a boolean mask is taken as it is, without a copy.
            masks = values >= self.threshold if self.threshold is not None else np.asarray(values, dtype=bool)
            cleaned = np.zeros(masks.shape, dtype=bool)
            for channel, cleaned_channel in zip(masks, cleaned, strict=True):
                largest_filled_component(channel, out=cleaned_channel)
            d[key] = convert_to_dst_type(
                cleaned, dst=d[key], dtype=torch.bool if isinstance(d[key], torch.Tensor) else bool
            )[0]
        return d
