# Shared set-up of the folder-run benchmark scripts (sourced, not run): REPO, SHARED, WORK (a temporary folder,
# removed on exit unless the script sets its own trap), FOLDERS (the shared DICOM folder and the 84 PNG/JPEG
# images of cxr-lung-lr), the project's venv, and report_run. Needs scripts/setup_env.sh and ../shared/data.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED="${LUNGSEG_SHARED_DATA:-$REPO/../shared/data}"
FOLDERS=("$SHARED/dicom" "$SHARED/cxr-lung-lr/images")
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# shellcheck disable=SC1091
source "$REPO/.venv/bin/activate"

report_run() {  # label, input folder, [seconds: else the wall time in $WORK/out/run_summary.json], [stages]
    python - "$1" "$2" "${3:-}" "$WORK/out/run_summary.json" "${4:-}" <<'PY'
import json, sys
label, folder, seconds, summary_file, stages = sys.argv[1:]
summary = json.load(open(summary_file))
done, wall = summary["counts"].get("done", 0), float(seconds or summary["wall_seconds"])
line = f"{label:26s} {folder.rstrip('/').split('/')[-1]:8s} done {done:3d}  wall {wall:6.2f} s  {done / wall:5.2f} img/s"
if seconds:  # the whole command's time was given: add the folder run's own (start-up excluded; shards: from the
    # first shard's start to the last one's end)
    run_wall = float(summary.get("span_seconds", summary["wall_seconds"]))
    line += f"  (folder run {run_wall:5.2f} s, {done / run_wall:5.2f} img/s)"
if stages:  # seconds per stage: waiting for data (reading), network and post-processing, each writer
    short = {"wait for data": "read", "network and": "iterations", "network (lookahead": "network thread"}
    parts = []
    for name, value in summary.get("seconds_by_stage", {}).items():
        label_ = next((v for k, v in short.items() if name.startswith(k)), name.split(" ")[0])
        parts.append(f"{label_} {value['seconds']:.2f}")
    line += "  [" + ", ".join(parts) + "]"
print(line)
PY
}
