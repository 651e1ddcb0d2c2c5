"""A dataset of radiographs that turns a file it cannot read into a record instead of an exception."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from monai.data import Dataset, decollate_batch
from monai.data.utils import collate_meta_tensor

from lungseg_monai.data.errors import MaskError, NotARadiographError, RadiographReadError, one_line
from lungseg_monai.inference.run_summary import FileOutcome
from lungseg_monai.inference.statuses import FAILED, SKIPPED

__all__ = ["TolerantDataset", "UNREADABLE", "collate_radiographs", "decollate_radiographs"]

logger = logging.getLogger(__name__)

#: Key of the outcome of an item that could not be read (a :class:`FileOutcome`); such an item has no pixels.
UNREADABLE = "unreadable"


def _root_cause(err: BaseException) -> BaseException:
    """MONAI's ``Compose`` wraps a transform's error in RuntimeErrors; return our own error, else the innermost."""
    while err.__cause__ is not None and not isinstance(err, (RadiographReadError, MaskError)):
        err = err.__cause__
    return err


class TolerantDataset(Dataset):
    """A MONAI ``Dataset`` whose items that fail their transform become ``{**item, "unreadable": FileOutcome}``.

    Items carry ``image`` (the file) and ``source`` (the name the outcome is recorded under). A file that is not a
    chest radiograph is ``skipped``; any other error makes it ``failed``, with a reason naming the file.
    """

    def __init__(self, data: Sequence[dict[str, Any]], transform: Callable | None = None) -> None:
        super().__init__(data=data, transform=transform)

    def _transform(self, index: int) -> dict[str, Any]:
        item = self.data[index]
        try:
            return super()._transform(index)
        # One file must never stop a folder run: whatever reading it raises is that file's failure. Errors we
        # expect name the file and problem; anything else is reported as unexpected, its traceback in the log.
        except Exception as err:  # noqa: BLE001
            cause = _root_cause(err)
            status = SKIPPED if isinstance(cause, NotARadiographError) else FAILED
            reason = one_line(cause)
            if not isinstance(cause, (RadiographReadError, MaskError, OSError)):
                logger.debug("unexpected error reading %s", item["image"], exc_info=err)
                reason = f"{item['image']}: unexpected {type(cause).__name__} while reading ({reason})"
            return {**item, UNREADABLE: FileOutcome(item["source"], status, reason)}


def collate_radiographs(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Collate readable items: ``image`` stacked (its metadata too), every other key a list, one entry per item.

    Full-resolution copies differ in size from film to film, so they stay a list instead of being padded.
    Unreadable items go, whole, into the list under ``unreadable``.
    """
    readable = [item for item in items if UNREADABLE not in item]
    batch: dict[str, Any] = {key: [item[key] for item in readable] for key in (readable[0] if readable else {})}
    if readable:
        batch["image"] = collate_meta_tensor(batch["image"])
    batch[UNREADABLE] = [item for item in items if UNREADABLE in item]
    return batch


def decollate_radiographs(batch: dict[str, Any]) -> list[dict[str, Any]]:
    """Undo :func:`collate_radiographs` for the readable items (``unreadable`` taken out before)."""
    images = decollate_batch(batch["image"], detach=True)
    listed = [key for key in batch if key != "image"]
    return [{**{key: batch[key][i] for key in listed}, "image": image} for i, image in enumerate(images)]
