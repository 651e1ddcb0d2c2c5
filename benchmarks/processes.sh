#!/usr/bin/env bash
# Folder-run speed with 1 process against N torchrun processes (one shard each), alternated, on one machine:
#   bash benchmarks/processes.sh [N] [repeats]
# Prints, per run, the command's wall time and img/s (done images / wall) on the shared DICOM folder and on the
# 84 PNG/JPEG images of cxr-lung-lr. Needs the set-up of scripts/setup_env.sh and ../shared/data beside the checkout.
set -euo pipefail
PROCS="${1:-2}"
REPEATS="${2:-2}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${LUNGSEG_SHARED_DATA:-$REPO/../shared/data}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# shellcheck disable=SC1091
source "$REPO/.venv/bin/activate"
cd "$REPO"
CONFIGS="['bundles/unet/configs/train.json','bundles/unet/configs/inference.json']"

report() {  # label, folder, seconds
    python - "$1" "$2" "$3" "$WORK/out/run_summary.json" <<'PY'
import json, sys
label, folder, seconds, summary_file = sys.argv[1:]
done = json.load(open(summary_file))["counts"].get("done", 0)
name = folder.rstrip("/").split("/")[-1]
print(f"{label:24s} {name:8s} done {done:3d}  wall {float(seconds):6.2f} s  {done / float(seconds):5.2f} img/s")
PY
}

for folder in "$SHARED/dicom" "$SHARED/cxr-lung-lr/images"; do
    for _ in $(seq "$REPEATS"); do
        rm -rf "$WORK/out"
        start=$(date +%s.%N)
        lungseg --input-dir "$folder" --output-dir "$WORK/out" >/dev/null 2>&1 || true
        report "1 process, 2 workers" "$folder" "$(echo "$(date +%s.%N) - $start" | bc)"
        rm -rf "$WORK/out"
        start=$(date +%s.%N)
        torchrun --nproc_per_node "$PROCS" -m monai.bundle run --config_file "$CONFIGS" --bundle_root bundles/unet \
            --input_dir "$folder" --output_dir "$WORK/out" --num_workers 1 >/dev/null 2>&1 || true
        report "$PROCS processes, 1 worker each" "$folder" "$(echo "$(date +%s.%N) - $start" | bc)"
    done
done
