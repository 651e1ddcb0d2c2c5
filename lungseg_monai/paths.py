"""Locate the shipped bundles (installed with the package, or in a source checkout) and the checkout's data."""

from __future__ import annotations

from pathlib import Path

from lungseg_monai.run_errors import UsageError

__all__ = ["repo_path", "bundle_path", "bundle_config_files", "manifest_for", "installed_bundles_dir"]

_PACKAGE_DIR = Path(__file__).resolve().parent
_REPO_ROOT = _PACKAGE_DIR.parent


def installed_bundles_dir() -> Path:
    """Return where the shipped bundles are: ``lungseg_monai/bundles`` of an installed wheel, else ``bundles/``.

    A wheel (``pip install .``) carries the bundles inside the package; a source checkout with an editable
    install (``pip install -e .``) has them in ``bundles/`` beside the package.
    """
    installed = _PACKAGE_DIR / "bundles"
    return installed if installed.is_dir() else _REPO_ROOT / "bundles"


def repo_path(*parts: str) -> str:
    """Return an absolute path inside the checkout this package was installed from (editable install)."""
    return str(_REPO_ROOT.joinpath(*parts))


def bundle_path(name: str) -> str:
    """Return the folder of the shipped bundle ``name`` (``unet`` or ``pix2pix``), see :func:`installed_bundles_dir`.

    Raises:
        FileNotFoundError: no such bundle; any other bundle folder can be given by path (``lungseg --bundle PATH``).

    """
    path = installed_bundles_dir() / name
    if not (path / "configs").is_dir():
        raise FileNotFoundError(f"bundle {name!r} not found at {path}; pass a bundle folder (--bundle PATH)")
    return str(path)


def bundle_config_files(bundle_dir: str | Path, *names: str) -> list[str]:
    """Return the config files of a run of ``bundle_dir``: ``train.json``, then the overlays ``names`` on it.

    As in the MONAI model-zoo bundles, ``evaluate.json``, ``inference.json`` and the other configs are ``#``-path
    overrides of ``train.json``, read on top of it (``bundle_config_files(b, "inference.json")``).
    """
    configs = Path(bundle_dir) / "configs"
    return [str(configs / "train.json"), *(str(configs / name) for name in names if name != "train.json")]


def manifest_for(dataset_dir: str) -> str:
    """Return the datalist of ``dataset_dir``: ``data_manifests/<folder>.json``, else ``<dataset_dir>/datalist.json``.

    Raises:
        UsageError: no such folder, or neither datalist exists (the message says how to build one).

    """
    if not Path(dataset_dir).is_dir():
        raise UsageError(f"--dataset_dir {dataset_dir}: no such folder")
    name = Path(dataset_dir).resolve().name
    candidates = [_REPO_ROOT / "data_manifests" / f"{name}.json", Path(dataset_dir) / "datalist.json"]
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    raise UsageError(
        f"--dataset_dir {dataset_dir}: no datalist for it (looked for {', '.join(map(str, candidates))}); build one "
        f"with `lungseg-manifest {dataset_dir} data_manifests/{name}.json` or pass --datalist"
    )
