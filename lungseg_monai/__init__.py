"""lungseg_monai: lung segmentation on chest radiographs with MONAI, shipped as MONAI Bundles."""

from __future__ import annotations

from lungseg_monai.paths import bundle_path, manifest_for, repo_path

__version__ = "0.6.3"
__all__ = ["__version__", "bundle_path", "manifest_for", "repo_path"]
