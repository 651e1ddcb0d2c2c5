#!/usr/bin/env bash
# Folder-run speed, full decode against reduced decode, 1 process against N torchrun processes (one shard each),
# alternated, on one machine:
#   bash benchmarks/processes.sh [N] [repeats]
# Prints, per run, the command's wall time, img/s (done images / wall), the folder run's own time from
# run_summary.json (start-up excluded; for N processes from the first shard's start to the last one's end) and,
# for one process, the seconds per stage, on the shared DICOM folder and on the 84 PNG/JPEG images of cxr-lung-lr.
# Needs the set-up of scripts/setup_env.sh and ../shared/data beside the checkout.
PROCS="${1:-2}"
REPEATS="${2:-2}"
# shellcheck source=benchmarks/folder_runs.sh
source "$(dirname "${BASH_SOURCE[0]}")/folder_runs.sh"
cd "$REPO"
CONFIGS="['bundles/unet/configs/train.json','bundles/unet/configs/inference.json']"

for folder in "${FOLDERS[@]}"; do
    for _ in $(seq "$REPEATS"); do
        for decode in full reduced; do
            if [ "$decode" = full ]; then flag=(--full-decode); side=0; else flag=(); side=768; fi
            rm -rf "$WORK/out"
            start=$(date +%s.%N)
            lungseg --input-dir "$folder" --output-dir "$WORK/out" "${flag[@]}" >/dev/null 2>&1 || true
            report_run "$decode, 1 process" "$folder" "$(echo "$(date +%s.%N) - $start" | bc)" stages
            rm -rf "$WORK/out"
            start=$(date +%s.%N)
            torchrun --nproc_per_node "$PROCS" -m monai.bundle run --config_file "$CONFIGS" --bundle_root bundles/unet \
                --input_dir "$folder" --output_dir "$WORK/out" --num_workers 1 --decode_min_side "$side" \
                >/dev/null 2>&1 || true
            report_run "$decode, $PROCS processes" "$folder" "$(echo "$(date +%s.%N) - $start" | bc)"
        done
    done
done
