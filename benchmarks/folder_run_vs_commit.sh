#!/usr/bin/env bash
# Folder-run speed of an earlier commit against the working tree, in one run on one machine, runs alternated:
#   bash benchmarks/folder_run_vs_commit.sh <git-rev> [repeats]
#   BUNDLE=pix2pix bash benchmarks/folder_run_vs_commit.sh <git-rev> [repeats]   (default: lungseg's, the U-Net)
#   STAGES=1 bash benchmarks/folder_run_vs_commit.sh <git-rev> [repeats]   (each run's seconds by stage as well)
# Prints, per run, the folder-run wall time (run_summary.json) and img/s on the shared DICOM folder and on the
# 84 PNG/JPEG images of cxr-lung-lr; then, per folder, each side's median, the median of the paired ratios (each
# working-tree run against the earlier commit's run just before it) and each side's fastest run (noise on a shared
# machine only adds time, so the fastest run is the least disturbed one, as Python's timeit reports it). Needs the
# set-up of scripts/setup_env.sh and ../shared/data beside the checkout.
REV="${1:?usage: folder_run_vs_commit.sh <git-rev> [repeats]}"
REPEATS="${2:-2}"
# shellcheck source=benchmarks/folder_runs.sh
source "$(dirname "${BASH_SOURCE[0]}")/folder_runs.sh"
trap 'git -C "$REPO" worktree remove --force "$WORK/old" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
git -C "$REPO" worktree add -q "$WORK/old" "$REV"

run() {  # label, code folder ("" = working tree), input folder
    rm -rf "$WORK/out"
    (cd "$WORK" && LUNGSEG_CODE="$2" python -c "
import os, sys
code = os.environ['LUNGSEG_CODE']
if code:
    sys.path.insert(0, code)  # the earlier commit's package and bundles instead of the installed ones
from lungseg_monai.inference.cli import main
raise SystemExit(main())" ${BUNDLE:+--bundle "$BUNDLE"} --input-dir "$3" --output-dir "$WORK/out" >/dev/null 2>&1) || true
    report_run "$1" "$3" "" "${STAGES:+stages}"
}

for folder in "${FOLDERS[@]}"; do
    for _ in $(seq "$REPEATS"); do
        run "$REV" "$WORK/old" "$folder"
        run "working tree" "" "$folder"
    done
done | tee "$WORK/runs.txt"
python - "$REV" "$WORK/runs.txt" <<'PY'
import re, statistics, sys
rev, runs = sys.argv[1], open(sys.argv[2]).read().splitlines()
walls = {}  # folder -> (earlier commit's walls, working tree's walls), in run order
for line in runs:  # report_run's lines: the label (a revision may be longer than its column), folder, done, wall
    folder, wall = re.search(r" (\S+) +done +\d+ +wall +([\d.]+) s", line).groups()
    walls.setdefault(folder, ([], []))[line.startswith("working tree")].append(float(wall))
for folder, (old, new) in walls.items():
    ratios = [n / o - 1 for o, n in zip(old, new)]
    print(f"{folder:8s} median {statistics.median(old):.2f} s ({rev}) against {statistics.median(new):.2f} s "
          f"(working tree): {statistics.median(new) / statistics.median(old) - 1:+.1%}; paired runs "
          f"{', '.join(f'{r:+.0%}' for r in ratios)}, median {statistics.median(ratios):+.1%}; fastest "
          f"{min(old):.2f} s against {min(new):.2f} s: {min(new) / min(old) - 1:+.1%}")
PY
