"""Locate the bundles and embedded sample shipped beside the package in a source checkout."""

from __future__ import annotations

from pathlib import Path

__all__ = ["repo_path", "bundle_path", "manifest_for"]

_REPO_ROOT = Path(__file__).resolve().parents[1]


def repo_path(*parts: str) -> str:
    """Return an absolute path inside the checkout this package was installed from (editable install)."""
    return str(_REPO_ROOT.joinpath(*parts))


def bundle_path(name: str) -> str:
    """Return the directory of the bundle ``name`` (``unet`` or ``pix2pix``) in this checkout."""
    path = _REPO_ROOT / "bundles" / name
    if not path.is_dir():
        raise FileNotFoundError(f"bundle {name!r} not found at {path}; pass --bundle_root explicitly")
    return str(path)


def manifest_for(dataset_dir: str) -> str:
    """Return the datalist of ``dataset_dir``: ``data_manifests/<folder>.json``, else ``<dataset_dir>/datalist.json``.

    Raises:
        FileNotFoundError: neither exists; the message says how to build one with ``lungseg-manifest``.

    """
    name = Path(dataset_dir).resolve().name
    candidates = [_REPO_ROOT / "data_manifests" / f"{name}.json", Path(dataset_dir) / "datalist.json"]
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    raise FileNotFoundError(
        f"no datalist for {dataset_dir}: looked for {', '.join(map(str, candidates))}; build one with "
        f"`lungseg-manifest {dataset_dir} data_manifests/{name}.json` or pass --datalist"
    )
