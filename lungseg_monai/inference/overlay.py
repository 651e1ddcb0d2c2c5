"""The overlay a radiologist reads at a glance: each structure in its colour, the CTR's widths, what the run found.

Right lung, left lung and cardiomediastinum take the label tables' Okabe-Ito colours
(:data:`~lungseg_monai.inference.label_tables.LABELS`), distinguishable with the common colour-vision deficiencies:
the lungs tinted and outlined, the cardiomediastinum outlined (so the lungs behind it stay visible in the anatomical
convention). Where the cardiothoracic ratio was measured, its thoracic width is drawn on the row it was measured on
and its cardiac width between the heart's outermost columns, with the value. A banner names the lung convention,
the quality and its flags; a legend names the colours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from lungseg_monai.inference.label_tables import LABELS

__all__ = [
    "CARDIAC_WIDTH_RGB",
    "CHECK_RGB",
    "TEXT_RGB",
    "THORACIC_WIDTH_RGB",
    "CtrLines",
    "OverlayNotes",
    "annotate",
    "ctr_lines",
    "tint",
]

#: Okabe-Ito yellow and vermillion: the thoracic and the cardiac width.
THORACIC_WIDTH_RGB, CARDIAC_WIDTH_RGB = (240, 228, 66), (213, 94, 0)
_RIGHT, _LEFT = LABELS[0].rgb, LABELS[1].rgb
#: Banner text, and the quality and flags of a film to check (Okabe-Ito reddish purple: no line has it).
TEXT_RGB, CHECK_RGB = (255, 255, 255), (204, 121, 167)


@dataclass(frozen=True)
class CtrLines:
    """Where the cardiothoracic ratio's two widths lie on the film (rows and columns of the full grid)."""

    ratio: float
    thoracic_row: int
    thoracic_columns: tuple[int, int]
    cardiac_row: int
    cardiac_columns: tuple[int, int]


@dataclass(frozen=True)
class OverlayNotes:
    """What the overlay writes on the film: banner lines (text, colour) and, where measured, the CTR's widths."""

    lines: list[tuple[str, tuple[int, int, int]]] = field(default_factory=list)
    ctr: CtrLines | None = None


def ctr_lines(
    right: np.ndarray, left: np.ndarray, heart: np.ndarray, thoracic_row: int | None, ratio: float | None
) -> CtrLines | None:
    """Return the CTR's widths as measured (``cardiothoracic_ratio``): anatomical lungs, the ``heart`` mask.

    The thoracic width is the two lungs' extent on ``thoracic_row`` (that row of each is read: no full-size union
    of the lungs); the cardiac width spans the heart's outermost columns, drawn at the mean level of the two border
    points.
    """
    if ratio is None or thoracic_row is None:
        return None
    on_row = np.flatnonzero(right[thoracic_row] | left[thoracic_row])
    columns = np.flatnonzero(heart.any(axis=0))
    if not on_row.size or not columns.size:
        return None
    first, last = int(columns[0]), int(columns[-1])
    level = (np.flatnonzero(heart[:, first]).mean() + np.flatnonzero(heart[:, last]).mean()) / 2
    return CtrLines(ratio, thoracic_row, (int(on_row[0]), int(on_row[-1])), round(level), (first, last))


@lru_cache(maxsize=1)
def _tint_colours() -> np.ndarray:
    """Overlay colour per (class, grey level): rows 0-255 grey, 256-511 right lung, 512-767 left lung (60% grey)."""
    grey = np.arange(256, dtype=np.float32)[:, None]
    tinted = [np.float32(0.6) * grey + np.float32(0.4) * np.asarray(rgb, np.float32) for rgb in (_RIGHT, _LEFT)]
    rows = [np.repeat(grey, 3, axis=1), *tinted]
    return np.concatenate(rows).astype(np.uint8)


def tint(grey: np.ndarray, right: np.ndarray, left: np.ndarray) -> np.ndarray:
    """Return ``grey`` (uint8) as RGB with the right and the left lung tinted in their colours (one look-up)."""
    classes = right.view(np.uint8).astype(np.uint16) | (left.view(np.uint8).astype(np.uint16) << 1)
    index = grey.astype(np.uint16) | (np.minimum(classes, 2) << 8)
    return np.take(_tint_colours(), index, axis=0)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _legend_entries(notes: OverlayNotes) -> list[tuple[str, tuple[int, int, int]]]:
    entries = [(label.title, label.rgb) for label in LABELS]
    if notes.ctr is not None:
        entries += [("Thoracic width", THORACIC_WIDTH_RGB), ("Cardiac width", CARDIAC_WIDTH_RGB)]
    return entries


def annotate(rgb: np.ndarray, notes: OverlayNotes, step: int, thickness: int) -> np.ndarray:
    """Draw the CTR's widths, the banner and the legend on an overlay subsampled every ``step`` pixels."""
    image = Image.fromarray(rgb)
    draw = ImageDraw.Draw(image)
    size = max(11, min(rgb.shape[:2]) // 42)
    font, pad = _font(size), max(2, size // 4)
    if notes.ctr is not None:
        ctr = notes.ctr
        for row, (start, end), colour in (
            (ctr.thoracic_row, ctr.thoracic_columns, THORACIC_WIDTH_RGB),
            (ctr.cardiac_row, ctr.cardiac_columns, CARDIAC_WIDTH_RGB),
        ):
            y, x0, x1 = row // step, start // step, end // step
            draw.line([(x0, y), (x1, y)], fill=colour, width=thickness)
            for x in (x0, x1):  # end ticks
                draw.line([(x, y - 3 * thickness), (x, y + 3 * thickness)], fill=colour, width=thickness)
        label_y = max(0, ctr.cardiac_row // step - size - 3 * thickness - pad)
        draw.text((ctr.cardiac_columns[0] // step, label_y), f"CTR {ctr.ratio:.3f}", fill=CARDIAC_WIDTH_RGB,
                  font=font, stroke_width=max(1, size // 12), stroke_fill=(0, 0, 0))  # fmt: skip
    _text_box(draw, (pad, pad), notes.lines, font, pad, size)
    legend = _legend_entries(notes)
    top = rgb.shape[0] - pad - len(legend) * (size + pad) - pad
    _text_box(draw, (pad, top), legend, font, pad, size, swatches=True)
    return np.asarray(image)


def _text_box(draw: ImageDraw.ImageDraw, origin: tuple[int, int], lines: list[tuple[str, tuple[int, int, int]]],
              font: ImageFont.ImageFont, pad: int, size: int, swatches: bool = False) -> None:  # fmt: skip
    """Write ``lines`` (text, colour) on a dark box; with ``swatches`` each line starts with a square of its colour."""
    if not lines:
        return
    indent = size + pad if swatches else 0
    width = max(draw.textlength(text, font=font) for text, _ in lines) + indent + 2 * pad
    x, y = origin
    draw.rectangle([x, y, x + width, y + len(lines) * (size + pad) + pad], fill=(0, 0, 0))
    for index, (text, colour) in enumerate(lines):
        line_y = y + pad + index * (size + pad)
        if swatches:
            draw.rectangle([x + pad, line_y, x + pad + size - 1, line_y + size - 1], fill=colour)
        draw.text((x + pad + indent, line_y), text, fill=TEXT_RGB if swatches else colour, font=font)
