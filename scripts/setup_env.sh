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
python -m pip install --quiet --upgrade pip
# Pin torch first: an unpinned torch would pull a multi-GB CUDA build; 2.13.0 is a CPU build here.
python -c "import torch" 2>/dev/null || python -m pip install --quiet "torch==${TORCH_VERSION:-2.13.0}"
python -m pip install --quiet -e ".[dev]"
