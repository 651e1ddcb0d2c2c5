#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite on the CPU.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
# -rs prints why a test was skipped (e.g. Orthanc not installed). Two pytest-xdist workers, each taking whole test
# files (module fixtures run once), since many tests wait on subprocesses, sockets and Orthanc rather than the CPU:
# the suite took 11 min 55 s on 2 cores against 16 min 30 s in one process. PYTEST_WORKERS=0 runs it in one.
python -m pytest -q -rs -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"
