#!/usr/bin/env bash
# Create .venv (once) and install lungseg_monai with a CPU build of torch. Sourced by the other scripts.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
source .venv/bin/activate
# The editable install follows code changes by itself; it is redone only when pyproject.toml (dependencies, entry
# points, packages) differs from the one installed, or the package cannot be imported.
STAMP=.venv/.lungseg_monai-installed
INSTALLED="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$INSTALLED" ] && python -c "import lungseg_monai" 2>/dev/null; then
    return 0 2>/dev/null || exit 0
fi
python -m pip install --quiet --upgrade pip
# Pin torch first: an unpinned torch would pull a multi-GB CUDA build; 2.13.0 is a CPU build here.
python -c "import torch" 2>/dev/null || python -m pip install --quiet "torch==${TORCH_VERSION:-2.13.0}"
# setuptools says an editable install with a mapped folder (bundles/ -> lungseg_monai.bundles) could be shadowed by
# a folder of the same name; there is none (lungseg_monai/bundles does not exist), so that one notice is silenced.
PYTHONWARNINGS="ignore:Editable installation" python -m pip install --quiet -e ".[dev]"
echo "$INSTALLED" > "$STAMP"
