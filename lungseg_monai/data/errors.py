"""Exceptions raised for bad input data."""

from __future__ import annotations

__all__ = ["RadiographReadError", "MaskError", "NotARadiographError", "one_line"]


class RadiographReadError(ValueError):
    """A radiograph file cannot be read; the message names the file and the problem."""


class MaskError(ValueError):
    """A lung mask is missing, unreadable, or does not match its image."""


class NotARadiographError(RadiographReadError):
    """A readable file that is not a frontal chest radiograph (an SR, a SEG, a CT slice, a hip film, a lateral)."""


def one_line(err: BaseException) -> str:
    """Return an exception's message on one line (decoder messages span several), or its type's name if empty."""
    return " ".join(str(err).split()) or type(err).__name__
