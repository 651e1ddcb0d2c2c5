"""lungseg_monai: lung segmentation on chest radiographs with MONAI, shipped as MONAI Bundles."""

from __future__ import annotations

from lungseg_monai.paths import bundle_path, manifest_for, repo_path
from lungseg_monai.run_errors import UsageError, report_usage_errors, require_file

__version__ = "0.8.12"
__all__ = [
    "UsageError",
    "__version__",
    "bundle_path",
    "manifest_for",
    "repo_path",
    "report_usage_errors",
    "require_file",
]
