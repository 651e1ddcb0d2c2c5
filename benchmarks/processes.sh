#!/usr/bin/env bash
# Folder-run speed with 1 process against N torchrun processes (one shard each), alternated, on one machine:
#   bash benchmarks/processes.sh [N] [repeats]
# Prints, per run, the command's wall time and img/s (done images / wall) on the shared DICOM folder and on the
# 84 PNG/JPEG images of cxr-lung-lr. Needs the set-up of scripts/setup_env.sh and ../shared/data beside the checkout.
PROCS="${1:-2}"
REPEATS="${2:-2}"
# shellcheck source=benchmarks/folder_runs.sh
source "$(dirname "${BASH_SOURCE[0]}")/folder_runs.sh"
cd "$REPO"
CONFIGS="['bundles/unet/configs/train.json','bundles/unet/configs/inference.json']"

for folder in "${FOLDERS[@]}"; do
    for _ in $(seq "$REPEATS"); do
        rm -rf "$WORK/out"
        start=$(date +%s.%N)
        lungseg --input-dir "$folder" --output-dir "$WORK/out" >/dev/null 2>&1 || true
        report_run "1 process, 2 workers" "$folder" "$(echo "$(date +%s.%N) - $start" | bc)"
        rm -rf "$WORK/out"
        start=$(date +%s.%N)
        torchrun --nproc_per_node "$PROCS" -m monai.bundle run --config_file "$CONFIGS" --bundle_root bundles/unet \
            --input_dir "$folder" --output_dir "$WORK/out" --num_workers 1 >/dev/null 2>&1 || true
        report_run "$PROCS processes, 1 worker each" "$folder" "$(echo "$(date +%s.%N) - $start" | bc)"
    done
done
