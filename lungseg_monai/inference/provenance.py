"""What made a set of outputs: bundle, weights, lung convention and output options, stored in each record."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lungseg_monai.data.checksums import file_sha256

__all__ = ["OutputProvenance", "file_sha256", "read_record", "record_path"]


def record_path(base: str | Path) -> Path:
    """Return the JSON record's path of the image whose outputs start with ``base`` (``<output>/<rel>/<name>``)."""
    return Path(f"{base}.json")


def read_record(path: Path) -> dict[str, Any] | None:
    """Return the JSON record at ``path``, or None when it is missing or unreadable (then it is redone)."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


@dataclass(frozen=True)
class OutputProvenance:
    """The facts that decide whether existing outputs can be kept.

    Attributes:
        bundle: the bundle's name (``lungseg_unet``).
        version: the bundle's version.
        weights_sha256: SHA-256 of the weights file the network was loaded from.
        convention: the lung convention of the masks (``anatomical``: lungs including the part behind the heart).
        options: the output switches (which files are written).
        second_opinion_sha256: SHA-256 of the second network's weights (None for a bundle without one).

    """

    bundle: str
    version: str
    weights_sha256: str
    convention: str
    options: dict[str, bool] = field(default_factory=dict)
    second_opinion_sha256: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the ``provenance`` entry of a record."""
        return asdict(self)

    def differences(self, record: dict[str, Any]) -> list[str]:
        """Name what differs between this run and the record of earlier outputs (empty: they match)."""
        earlier = record.get("provenance")
        if not isinstance(earlier, dict):
            return ["provenance (the record has none)"]
        return [key for key, value in self.as_dict().items() if earlier.get(key) != value]
