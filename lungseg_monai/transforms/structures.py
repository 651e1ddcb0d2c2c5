"""The three structures the networks predict, as overlapping label channels: right lung, left lung, cardiomediastinum.

A label is ``(3, rows, columns)``: channel 0 the patient's right lung, 1 the left lung, 2 the cardiomediastinal
silhouette (heart and mediastinum). The lungs are *anatomical* (they include the lung behind the heart), so the
heart channel overlaps them; the *visible* lung fields are the lungs outside it. A dataset that lacks a structure
(Montgomery and Shenzhen have no heart masks) fills that channel with :data:`UNKNOWN`, which the losses and the
metrics leave out instead of reading it as "no heart".
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import torch
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.transforms import Flip, MapTransform, RandomizableTransform

from lungseg_monai.conventions import CONVENTIONS
from lungseg_monai.data.errors import MaskError
from lungseg_monai.transforms.array import binarize_mask, mask_at_size_of, source_name
from lungseg_monai.transforms.known_channels import known_channels
from lungseg_monai.transforms.lung_split import split_lungs

__all__ = [
    "STRUCTURES",
    "RIGHT_LUNG",
    "LEFT_LUNG",
    "CARDIOMEDIASTINUM",
    "UNKNOWN",
    "CONVENTIONS",
    "check_convention",
    "StackStructureMasksd",
    "RandLateralFlipd",
    "lung_masks",
    "EVALUATION_CHANNELS",
    "EvaluationChannelsd",
    "heart_annotated",
]

#: Channel names, in channel order (also the bundles' ``channel_def``).
STRUCTURES = ("right_lung", "left_lung", "cardiomediastinum")
RIGHT_LUNG, LEFT_LUNG, CARDIOMEDIASTINUM = 0, 1, 2
#: Value of every pixel of a channel whose structure the dataset does not annotate.
UNKNOWN = -1.0


def check_convention(convention: str) -> str:
    """Return ``convention`` if it is one of :data:`CONVENTIONS`; raise ``ValueError`` naming them otherwise."""
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown lung convention {convention!r}; expected one of {', '.join(CONVENTIONS)}")
    return convention


def lung_masks(structures: np.ndarray, convention: str = "anatomical") -> tuple[np.ndarray, np.ndarray]:
    """Return the (right, left) boolean lung masks of a ``(3, rows, columns)`` structure mask in ``convention``.

    ``visible`` lung fields are the anatomical lungs outside the cardiomediastinum, so they are always a subset.
    Boolean channels come back as views of ``structures``: read them, do not write to them.
    """
    check_convention(convention)
    right, left = _boolean(structures[RIGHT_LUNG]), _boolean(structures[LEFT_LUNG])
    if convention == "visible":
        outside_heart = ~_boolean(structures[CARDIOMEDIASTINUM])
        right, left = right & outside_heart, left & outside_heart
    return right, left


def _boolean(channel: np.ndarray) -> np.ndarray:
    """Return the channel's non-zero pixels; a boolean channel as it is (a full-size copy costs on every film)."""
    return channel if channel.dtype == bool else channel > 0


class StackStructureMasksd(MapTransform):
    """Stack the right-lung, left-lung and cardiomediastinum masks of a case into one 3-channel ``label``.

    A dataset with one merged lung mask (Shenzhen, plain layouts: ``label_key`` already holds it) has it split
    into right and left lung by side (:func:`split_lungs`); a missing cardiomediastinum mask gives an
    :data:`UNKNOWN` channel. Masks published at ``1/k`` of the image size (SCR) are upsampled first.

    Args:
        keys: the right-lung, left-lung and cardiomediastinum mask keys, in that order.
        label_key: where the 3-channel label goes (and where a merged lung mask is read from).
        reference_key: the image key whose size the masks must match.
        delete_masks: drop the per-structure keys after stacking.

    """

    def __init__(
        self,
        keys: KeysCollection = ("right_mask", "left_mask", "heart_mask"),
        label_key: str = "label",
        reference_key: str | None = "image",
        delete_masks: bool = True,
        allow_missing_keys: bool = True,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        if len(self.keys) != 3:
            raise ValueError(f"StackStructureMasksd needs three keys (right, left, heart), got {self.keys}")
        self.label_key, self.reference_key, self.delete_masks = label_key, reference_key, delete_masks

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        """Return a copy of ``data`` with the 3-channel label under ``label_key``."""
        d = dict(data)
        right_key, left_key, heart_key = self.keys
        reference = d.get(self.reference_key) if self.reference_key else None
        if right_key in d and left_key in d:
            right = _binary(d[right_key], reference, "right lung")
            left = _binary(d[left_key], reference, "left lung")
            template = d[right_key]
        elif self.label_key in d:
            template = d[self.label_key]
            merged = _binary(template, reference, "lung")[0].numpy()
            right, left = (torch.as_tensor(m[None], dtype=torch.float32) for m in split_lungs(merged))
        else:
            present = [k for k in (right_key, left_key) if k in d]
            raise KeyError(f"no lung masks to stack: only {present} present for {d.get(self.reference_key)}")
        heart = (
            _binary(d[heart_key], reference, "cardiomediastinum") if heart_key in d else torch.full_like(right, UNKNOWN)
        )
        stacked = torch.cat([right, left, heart]).to(torch.float32)
        meta = getattr(template, "meta", None)
        d[self.label_key] = MetaTensor(stacked, meta=dict(meta)) if meta is not None else stacked
        if self.delete_masks:
            for key in self.keys:
                d.pop(key, None)
        return d


def _binary(mask: torch.Tensor, reference: torch.Tensor | None, name: str) -> torch.Tensor:
    """One mask, binarized, at the reference's size; an empty one is an incomplete annotation (``MaskError``)."""
    binary = torch.as_tensor(binarize_mask(mask_at_size_of(mask, mask if reference is None else reference)))
    if not binary.any():
        raise MaskError(f"{name} mask {source_name(mask)} is empty")
    return binary.as_tensor() if isinstance(binary, MetaTensor) else binary


class RandLateralFlipd(RandomizableTransform, MapTransform):
    """Mirror image and label left-right and swap the right- and left-lung channels of the label.

    A plain flip would teach the network that a lung on the image's right can be the patient's right lung; with
    the channels swapped, the lung on the image's left stays the right lung, as on every PA or AP film.

    Args:
        keys: every key to mirror (image and label).
        label_key: the 3-channel label among ``keys`` whose lung channels swap.
        swap: the channel pair to swap.
        prob: probability of the flip.
        spatial_axis: the spatial axis to mirror (1 = columns).

    """

    def __init__(
        self,
        keys: KeysCollection,
        label_key: str = "label",
        swap: Sequence[int] = (RIGHT_LUNG, LEFT_LUNG),
        prob: float = 0.5,
        spatial_axis: int = 1,
        allow_missing_keys: bool = False,
    ) -> None:
        MapTransform.__init__(self, keys, allow_missing_keys)
        RandomizableTransform.__init__(self, prob)
        self.label_key, self.swap = label_key, tuple(swap)
        self.flipper = Flip(spatial_axis=spatial_axis)

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        """Return ``data``, mirrored with the lung channels swapped with probability ``prob``."""
        d = dict(data)
        self.randomize(None)
        if not self._do_transform:
            return d
        for key in self.key_iterator(d):
            d[key] = self.flipper(d[key])
            if key == self.label_key:
                order = list(range(d[key].shape[0]))
                order[self.swap[0]], order[self.swap[1]] = self.swap[1], self.swap[0]
                d[key] = d[key][order]
        return d


#: The channels an evaluation scores, derived from the three structures (see :class:`EvaluationChannelsd`).
EVALUATION_CHANNELS = ("lungs", "visible_lungs", "right_lung", "left_lung", "cardiomediastinum")


class EvaluationChannelsd(MapTransform):
    """Add, for each 3-structure mask ``key``, the 5 channels an evaluation scores (:data:`EVALUATION_CHANNELS`).

    Both lungs in each convention (anatomical; visible = outside the cardiomediastinum), each lung, and the
    cardiomediastinum, so that one MONAI metric handler scores them all per case. Probabilities and soft masks
    are thresholded at 0.5; an :data:`UNKNOWN` cardiomediastinum gives empty ``visible_lungs`` and
    ``cardiomediastinum`` channels, which the report leaves out (:func:`heart_annotated`).

    Args:
        keys: ``(3, rows, columns)`` structure masks (``pred``, ``label``).
        names: the new keys, one per key.
        lung_convention: the convention of the reference lungs (the manifest's ``lung_convention``). With
            ``visible`` (a screening set), the lungs of ``prediction_keys`` are taken as visible lung fields too,
            so that the lung channels compare like with like.
        prediction_keys: the keys holding predictions (anatomical lungs).

    """

    def __init__(
        self,
        keys: KeysCollection,
        names: KeysCollection,
        lung_convention: str = "anatomical",
        prediction_keys: KeysCollection = ("pred",),
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.names = [names] if isinstance(names, str) else list(names)
        if len(self.names) != len(self.keys):
            raise ValueError(f"EvaluationChannelsd: {len(self.keys)} keys but {len(self.names)} names")
        self.lung_convention = check_convention(lung_convention)
        self.prediction_keys = {prediction_keys} if isinstance(prediction_keys, str) else set(prediction_keys)

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        """Add the evaluation channels."""
        d = dict(data)
        for key, name in self.key_iterator(d, self.names):
            structures = torch.as_tensor(d[key])
            right, left, heart = (structures[c] > 0.5 for c in (RIGHT_LUNG, LEFT_LUNG, CARDIOMEDIASTINUM))
            if self.lung_convention == "visible" and key in self.prediction_keys:
                right, left = right & ~heart, left & ~heart
            lungs = right | left
            channels = torch.stack([lungs, lungs & ~heart, right, left, heart]).to(torch.float32)
            meta = getattr(d[key], "meta", None)
            d[name] = MetaTensor(channels, meta=dict(meta)) if meta is not None else channels
        return d


def heart_annotated(label: torch.Tensor | np.ndarray) -> bool:
    """Whether a 3-structure reference label has a cardiomediastinum (its channel is not :data:`UNKNOWN`)."""
    return bool(known_channels(torch.as_tensor(label)[None])[0, CARDIOMEDIASTINUM])
