#!/bin/bash
# Folder inference and evaluation on a GPU: do they run, and do the masks match a CPU run of the same files?
#   bash scripts/gpu_check.sh            (from the repository root, on a machine with a CUDA GPU)
# Env: PY (python), DATASET_DIR (cxr-lung-lr layout; its validation split is evaluated). On the device machine of
# this workplace, wheels carried in .whl are installed first (docs/experiments/gpu_variant_sweep.sh says which).
set -u
PY=${PY:-python3}
DATASET_DIR=${DATASET_DIR:-../shared/data/cxr-lung-lr}
if [ -d .whl ] && [ -z "${SKIP_WHL:-}" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 3
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1
$PY -c "import torch; print('cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
seg() { $PY -c "from lungseg_monai.inference.cli import main; raise SystemExit(main())" "$@"; }
for input in sample_data/dicom sample_data/cxr-lung-lr-sample/images; do
  name=$(basename $input)
  seg --input-dir $input --output-dir /tmp/gpu-$name > /tmp/gpu-$name.out 2>&1; echo "$name GPU rc=$?"
  CUDA_VISIBLE_DEVICES= seg --input-dir $input --output-dir /tmp/cpu-$name > /tmp/cpu-$name.out 2>&1; echo "$name CPU rc=$?"
  cut -d, -f1-5 /tmp/gpu-$name/run_summary.csv
  grep -h "failed\|Error" /tmp/gpu-$name/lungseg.log | head -5
done
$PY - <<'PYEOF'
import numpy as np
from pathlib import Path
from PIL import Image
for name in ("dicom", "images"):
    for gpu in sorted(Path(f"/tmp/gpu-{name}").rglob("*.mask.png")):
        cpu = Path(f"/tmp/cpu-{name}") / gpu.relative_to(f"/tmp/gpu-{name}")
        a, b = np.asarray(Image.open(gpu)) > 0, np.asarray(Image.open(cpu)) > 0
        print(f"{gpu.name}: GPU vs CPU mask Dice {2 * (a & b).sum() / max(a.sum() + b.sum(), 1):.5f}")
PYEOF
$PY -m monai.bundle run --config_file "['bundles/unet/configs/train.json','bundles/unet/configs/evaluate.json']" \
  --bundle_root bundles/unet --dataset_dir "$DATASET_DIR" --eval_split validation > /tmp/eval.out 2>&1
echo "evaluate GPU rc=$?"; tail -3 /tmp/eval.out; grep -i "error" /tmp/eval.out | head -5
find eval -name "summary*" | head -3
