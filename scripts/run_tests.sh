#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite on the CPU.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
# -rs prints why a test was skipped (e.g. Orthanc not installed). Two pytest-xdist workers, each taking whole test
# files (module fixtures run once), since many tests wait on subprocesses, sockets and Orthanc rather than the CPU:
# 11 min 33 s on a fresh clone on 2 cores (0.8.4) against 16 min 51 s in one process (0.8.3). PYTEST_WORKERS=0: one.
python -m pytest -q -rs -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"
