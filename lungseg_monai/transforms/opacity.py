"""Dense opacities painted onto a radiograph while its lung masks stay as they are (the lungs are still there).

Four kinds, each with severities 0 (the clean film) to 4; :data:`SEVERITY_EXTENT` is the share of a lung's area, from
its base up, that an opacity of that severity covers (3: about half of each lung base):

- ``effusion``: pleural fluid at both bases (one side higher), homogeneous, its upper edge a meniscus that climbs
  towards the chest wall;
- ``consolidation``: patchy lobar/basal airspace consolidation, dense at one base, lighter at the other;
- ``diffuse``: bilateral airspace disease (ARDS): a haze over both lungs, dense and patchy towards the bases;
- ``whiteout``: one lung opacified from apex to base, denser with severity (4: a white-out).

The opacity is a blend of each pixel towards the film's soft-tissue level (the 90th percentile of the reference
cardiomediastinum, or of the film), shaped at a working size of 256 px and resized to the film. It is painted
before intensity normalisation, so that the film's percentiles change as a real opacity changes them.
:class:`PaintOpacityd` is deterministic per film, kind, severity and seed: the stress benchmark
(``docs/experiments/opacity_stress.py``); :class:`RandOpacityd` is the training augmentation, which holds out a
kind and a severity range of the benchmark.
"""

from __future__ import annotations

import zlib
from collections.abc import Hashable, Mapping
from pathlib import Path

import numpy as np
import torch
from monai.config import KeysCollection
from monai.transforms import MapTransform, RandomizableTransform
from scipy import ndimage

from lungseg_monai.transforms.array import source_name

__all__ = [
    "OPACITY_KINDS",
    "SEVERITIES",
    "SEVERITY_EXTENT",
    "TRAINING_KINDS",
    "opacity_alpha",
    "paint_opacity",
    "PaintOpacityd",
    "RandOpacityd",
]

OPACITY_KINDS = ("effusion", "consolidation", "diffuse", "whiteout")
#: The kinds :class:`RandOpacityd` paints by default: effusion (with its meniscus) is held out for the benchmark.
TRAINING_KINDS = ("consolidation", "diffuse", "whiteout")
SEVERITIES = (0, 1, 2, 3, 4)
#: Share of a lung's area, from its base up, that an opacity of each severity covers.
SEVERITY_EXTENT = (0.0, 0.15, 0.3, 0.5, 0.75)
_WHITEOUT_DENSITY = (0.0, 0.4, 0.6, 0.8, 0.95)
_WORK_SIZE = 256


def _smooth_noise(shape: tuple[int, int], rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Smooth noise in [0, 1] (a Gaussian-filtered normal field, min-max scaled)."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
    return (field - field.min()) / max(float(np.ptp(field)), 1e-6)


def _basal_region(lung: np.ndarray, extent: float, meniscus: float = 0.0, lateral_left: bool = True) -> np.ndarray:
    """Return the part of ``lung`` below a line that holds ``extent`` of its area (``meniscus``: raised laterally).

    The line is level (plus the meniscus, up to ``meniscus`` of the lung's height at the chest wall), so the region
    follows the diaphragm: under a high dome it is thin, in the costophrenic recess deep.
    """
    rows, cols = np.nonzero(lung)
    if rows.size == 0 or extent <= 0:
        return np.zeros_like(lung)
    top, bottom, first, last = rows.min(), rows.max(), cols.min(), cols.max()
    height = float(bottom - top + 1)
    columns = np.arange(lung.shape[1])
    outward = (last - columns) if lateral_left else (columns - first)
    rise = meniscus * height * np.clip(outward / max(last - first, 1), 0, 1) ** 2
    row_index = np.arange(lung.shape[0])[:, None]
    low, high = float(top - meniscus * height), float(bottom + 1)
    for _ in range(24):  # bisect the level until the region holds ``extent`` of the lung's area
        level = (low + high) / 2
        if (lung & (row_index >= level - rise[None, :])).sum() > extent * rows.size:
            low = level
        else:
            high = level
    return lung & (row_index >= high - rise[None, :])


def opacity_alpha(lungs: np.ndarray, kind: str, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Return the opacity's blend weight in [0, 1] for boolean ``lungs`` ``(2, rows, columns)`` (right, left).

    The right lung lies on the image's left (a PA film), so its lateral side is the image's left edge.
    """
    if kind not in OPACITY_KINDS:
        raise ValueError(f"unknown opacity kind {kind!r}; expected one of {', '.join(OPACITY_KINDS)}")
    if severity not in SEVERITIES:
        raise ValueError(f"opacity severity {severity!r}: expected 0 to 4")
    extent = SEVERITY_EXTENT[severity]
    alpha = np.zeros(lungs.shape[1:], dtype=np.float64)
    if severity == 0:
        return alpha
    shape = alpha.shape
    worse = int(rng.integers(2))  # the side with the larger opacity
    for side, lung in enumerate(lungs):
        share = 1.0 if side == worse else 0.7
        if kind == "effusion":
            region = _basal_region(lung, extent * share, meniscus=0.35, lateral_left=side == 0)
            alpha = np.maximum(alpha, 0.95 * region)
        elif kind == "consolidation":
            region = _basal_region(lung, extent * (1.0 if side == worse else 0.5), lateral_left=side == 0)
            patches = _smooth_noise(shape, rng, sigma=5) > 0.3
            alpha = np.maximum(alpha, 0.85 * (region & patches))
        elif kind == "diffuse":
            region = _basal_region(lung, extent * share, lateral_left=side == 0)
            haze = 0.1 * severity * lung * (0.5 + 0.5 * _smooth_noise(shape, rng, sigma=8))
            dense = 0.8 * region * (0.6 + 0.4 * _smooth_noise(shape, rng, sigma=4))
            alpha = np.maximum(alpha, np.maximum(haze, dense))
        elif side == worse:  # whiteout: one lung
            alpha = np.maximum(alpha, _WHITEOUT_DENSITY[severity] * lung * (0.9 + 0.1 * _smooth_noise(shape, rng, 6)))
    return ndimage.gaussian_filter(alpha, sigma=1.5)


def _resize(array: np.ndarray, size: tuple[int, int], mode: str) -> np.ndarray:
    tensor = torch.as_tensor(np.ascontiguousarray(array), dtype=torch.float32)[None, None]
    align = {"align_corners": False} if mode == "bilinear" else {}
    return torch.nn.functional.interpolate(tensor, size=size, mode=mode, **align)[0, 0].numpy()


def paint_opacity(
    image: np.ndarray, structures: np.ndarray, kind: str, severity: int, rng: np.random.Generator
) -> np.ndarray:
    """Return ``image`` ``(1, rows, columns)`` with an opacity painted into the lungs of ``structures``.

    Args:
        image: the film before intensity normalisation (brighter is denser).
        structures: its ``(3, rows, columns)`` reference masks (right lung, left lung, cardiomediastinum; a
            cardiomediastinum of -1, unknown, falls back to the whole film for the soft-tissue level).
        kind: one of :data:`OPACITY_KINDS`.
        severity: 0 (the image unchanged) to 4.
        rng: the generator that shapes the opacity (patches, which side is worse).

    """
    rows, columns = image.shape[-2:]
    scale = _WORK_SIZE / max(rows, columns)
    work = (max(round(rows * scale), 8), max(round(columns * scale), 8))
    lungs = np.stack([_resize(structures[c] > 0, work, "area") > 0.5 for c in (0, 1)])
    alpha = _resize(opacity_alpha(lungs, kind, severity, rng), (rows, columns), "bilinear")
    heart = structures[2] > 0
    pixels = np.asarray(image, dtype=np.float32)
    soft_tissue = float(np.percentile(pixels[0][heart] if heart.any() else pixels, 90))
    texture = 1.0 + 0.03 * rng.standard_normal((rows, columns)).astype(np.float32)
    painted = pixels + alpha * (soft_tissue * texture - pixels)
    return np.maximum(pixels, painted).astype(pixels.dtype)


def _with_pixels(film: torch.Tensor | np.ndarray, pixels: np.ndarray) -> torch.Tensor | np.ndarray:
    """Return ``film`` with ``pixels`` (a MetaTensor keeps its metadata)."""
    if not isinstance(film, torch.Tensor):
        return pixels
    copy = film.clone()
    copy.copy_(torch.as_tensor(pixels))
    return copy


class PaintOpacityd(MapTransform):
    """Paint an opacity of one kind and severity into a film's lungs; the masks are unchanged (stress benchmark).

    Deterministic: the opacity of a film depends only on its file name, ``kind``, ``severity`` and ``seed``.

    Args:
        keys: the film(s), ``(1, rows, columns)``, before intensity normalisation.
        label_key: the ``(3, rows, columns)`` reference structures (``StackStructureMasksd``'s ``label``).
        kind: one of :data:`OPACITY_KINDS`.
        severity: 0 (no change) to 4.
        seed: varies every film's opacity at once (a second draw of the benchmark).

    """

    def __init__(
        self, keys: KeysCollection, label_key: str = "label", kind: str = "effusion", severity: int = 3, seed: int = 0
    ) -> None:
        super().__init__(keys)
        if kind not in OPACITY_KINDS or severity not in SEVERITIES:
            raise ValueError(f"PaintOpacityd: kind {kind!r} severity {severity!r}; expected {OPACITY_KINDS} and 0-4")
        self.label_key, self.kind, self.severity, self.seed = label_key, kind, severity, seed

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        """Return ``data`` with each key's film painted."""
        d = dict(data)
        if self.severity == 0:
            return d
        structures = np.asarray(d[self.label_key])
        for key in self.key_iterator(d):
            film = d[key]
            name = zlib.crc32(Path(source_name(film)).name.encode())  # the file's name, wherever the data set lies
            rng = np.random.default_rng([self.seed, name, OPACITY_KINDS.index(self.kind), self.severity])
            d[key] = _with_pixels(film, paint_opacity(np.asarray(film), structures, self.kind, self.severity, rng))
        return d


class RandOpacityd(RandomizableTransform, MapTransform):
    """Training augmentation: paint a random opacity into a film's lungs; the label stays as drawn.

    It differs from the stress benchmark (:class:`PaintOpacityd`) on purpose, so that the benchmark measures
    robustness rather than memory of the generator: by default it never paints an effusion (:data:`TRAINING_KINDS`),
    goes up to severity 3 (the benchmark to 4), and paints on the normalised network-size image.

    Args:
        keys: the film(s), ``(1, rows, columns)``.
        label_key: the ``(3, rows, columns)`` structures (soft labels: above 0.5 counts; -1: unknown).
        prob: the chance that a film gets an opacity.
        kinds: the kinds to draw from.
        max_severity: severities 1 to this are drawn uniformly.

    """

    def __init__(
        self,
        keys: KeysCollection,
        label_key: str = "label",
        prob: float = 0.0,
        kinds: tuple[str, ...] = TRAINING_KINDS,
        max_severity: int = 3,
        allow_missing_keys: bool = False,
    ) -> None:
        MapTransform.__init__(self, keys, allow_missing_keys)
        RandomizableTransform.__init__(self, prob)
        unknown = [kind for kind in kinds if kind not in OPACITY_KINDS]
        if unknown or not kinds or max_severity not in SEVERITIES[1:]:
            raise ValueError(
                f"RandOpacityd: kinds {kinds!r}, max_severity {max_severity!r}; expected {OPACITY_KINDS}, 1-4"
            )
        self.label_key, self.kinds, self.max_severity = label_key, tuple(kinds), max_severity
        self._kind, self._severity, self._seed = kinds[0], 1, 0

    def randomize(self, data: object = None) -> None:
        """Draw whether to paint, and the kind, severity and shape of the opacity."""
        super().randomize(None)
        if self._do_transform:
            self._kind = self.kinds[self.R.randint(len(self.kinds))]
            self._severity = int(self.R.randint(1, self.max_severity + 1))
            self._seed = int(self.R.randint(2**31 - 1))

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        """Return ``data`` with an opacity painted into each key's film (or as it is)."""
        d = dict(data)
        self.randomize()
        if not self._do_transform:
            return d
        structures = np.asarray(d[self.label_key]) > 0.5
        rng = np.random.default_rng(self._seed)
        for key in self.key_iterator(d):
            film = d[key]
            d[key] = _with_pixels(film, paint_opacity(np.asarray(film), structures, self._kind, self._severity, rng))
        return d
