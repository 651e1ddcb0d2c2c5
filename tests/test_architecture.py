"""The package's layers import one way (the import-linter contract in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_layers_run_one_way():
    lint_imports = shutil.which("lint-imports")
    assert lint_imports, "import-linter (a dev dependency) is not installed"
    result = subprocess.run([lint_imports, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 kept, 0 broken" in result.stdout
