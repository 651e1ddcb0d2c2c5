"""File checksums (SHA-256), for weights and output provenance."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["file_sha256", "readable_file_sha256"]


def file_sha256(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def readable_file_sha256(path: str | Path) -> str | None:
    """Return the hex SHA-256 of a file, or None when it cannot be read (its reader then says why)."""
    try:
        return file_sha256(path)
    except OSError:
        return None
