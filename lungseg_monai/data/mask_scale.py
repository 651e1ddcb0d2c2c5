"""Masks published at a fraction of their image's size (e.g. the SCR lung masks of JSRT: 1024 px for 2048 px)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["mask_upscale_factor"]


def mask_upscale_factor(mask_shape: Sequence[int], image_shape: Sequence[int]) -> int | None:
    """Return ``k`` when a ``(rows, columns)`` mask is exactly ``1/k`` of the image in both axes (``k >= 2``).

    Any other mismatch returns None: it is an error, not a deliberate downscale.
    """
    rows, columns = (int(n) for n in mask_shape[-2:])
    image_rows, image_columns = (int(n) for n in image_shape[-2:])
    if rows <= 0 or columns <= 0 or image_rows % rows or image_columns % columns:
        return None
    factor = image_rows // rows
    return factor if factor >= 2 and image_columns // columns == factor else None
