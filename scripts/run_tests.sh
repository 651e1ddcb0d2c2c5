#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite on the CPU.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
# -rs prints why a test was skipped (e.g. Orthanc not installed).
python -m pytest -q -rs "$@"
