"""One split of a datalist for a training or evaluation run, its files checked before any is read."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monai.data import load_decathlon_datalist

from lungseg_monai.run_errors import UsageError

__all__ = ["load_split"]


def _missing_files(items: list[dict[str, Any]], keys: Sequence[str]) -> list[str]:
    """Paths under ``keys`` (a path or a list of them) of ``items`` that are not files."""
    paths = (item[key] for item in items for key in keys if key in item)
    flat = (path for value in paths for path in (value if isinstance(value, list) else [value]))
    return [str(path) for path in flat if not Path(path).is_file()]


def _is_split(value: list[Any]) -> bool:
    """Whether a datalist's list holds cases (dicts, or image paths as a decathlon ``test`` list may)."""
    return all(isinstance(item, (dict, str)) for item in value)


def load_split(
    datalist: str | Path, split: str, dataset_dir: str | Path, keys: Sequence[str] = ("image",)
) -> list[dict[str, Any]]:
    """Return MONAI's ``load_decathlon_datalist`` of ``split``, paths joined to ``dataset_dir``.

    A bundle's ``train.json`` gives ``keys`` = the keys its ``LoadImaged`` reads, so that a wrong ``--dataset_dir``
    or a stale datalist is refused before a ``CacheDataset`` spends minutes reading the files that exist.

    Raises:
        UsageError: the datalist is missing or not JSON, it has no such split (the message lists those it has) or
            an empty one, or files it lists are missing under ``dataset_dir`` (the message names the first and
            counts them).

    """
    datalist = Path(datalist)
    if not datalist.is_file():
        raise UsageError(f"--datalist {datalist}: no such file")
    try:
        content = json.loads(datalist.read_text())
    except (UnicodeDecodeError, ValueError) as err:
        raise UsageError(f"--datalist {datalist}: not a JSON datalist ({err})") from None
    if not isinstance(content, dict):
        raise UsageError(f"--datalist {datalist}: not a JSON datalist (not an object of splits)")
    splits = [key for key, value in content.items() if isinstance(value, list) and _is_split(value)]
    if split not in splits:
        raise UsageError(f"{datalist}: no split {split!r} in this datalist (it has {', '.join(splits) or 'none'})")
    if not content[split]:
        raise UsageError(f"--datalist {datalist}: split {split!r} is empty")
    items = load_decathlon_datalist(datalist, data_list_key=split, base_dir=dataset_dir)
    missing = _missing_files(items, keys)
    if missing:
        raise UsageError(
            f"--dataset_dir {dataset_dir}: {len(missing)} file(s) that {datalist.name}'s {split!r} split lists are "
            f"missing, the first {missing[0]} (a wrong --dataset_dir, or a datalist of another copy of the data)"
        )
    return items
