"""A dataset of radiograph paths that turns a file it cannot read into a record instead of an exception."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

from lungseg_monai.data.errors import MaskError, NotARadiographError, RadiographReadError, one_line
from lungseg_monai.inference.statuses import FAILED, SKIPPED

__all__ = ["TolerantRadiographs"]

logger = logging.getLogger(__name__)


def _root_cause(err: BaseException) -> BaseException:
    """MONAI's ``Compose`` wraps a transform's error in RuntimeErrors; return our own error, else the innermost."""
    while err.__cause__ is not None and not isinstance(err, (RadiographReadError, MaskError)):
        err = err.__cause__
    return err


class TolerantRadiographs(Dataset):
    """Apply ``preprocessing`` to each path; a file that fails yields ``{"path", "error", "status"}`` instead."""

    def __init__(self, paths: list[Path], preprocessing: Callable) -> None:
        self.paths, self.preprocessing = paths, preprocessing

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path = self.paths[index]
        start = time.perf_counter()
        try:
            item = self.preprocessing({"image": str(path)})
            return {"path": str(path), **item, "read_seconds": time.perf_counter() - start}
        # One file must never stop a folder run: whatever reading it raises is that file's failure. Errors we
        # expect name the file and problem; anything else is reported as unexpected, its traceback in the log.
        except Exception as err:  # noqa: BLE001
            cause = _root_cause(err)
            status = SKIPPED if isinstance(cause, NotARadiographError) else FAILED
            reason = one_line(cause)
            if not isinstance(cause, (RadiographReadError, MaskError, OSError)):
                logger.debug("unexpected error reading %s", path, exc_info=err)
                reason = f"{path}: unexpected {type(cause).__name__} while reading ({reason})"
            return {"path": str(path), "error": reason, "status": status, "read_seconds": time.perf_counter() - start}
