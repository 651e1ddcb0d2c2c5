#!/bin/bash
# U-Net variants in parallel on one GPU machine, each followed by a Pix2Pix warm-started from it, then the
# validation Dice of each (docs/experiments/validation_variants.py, flip averaging on); the best two of each kind come
# back as float16 weights under $OUT. Prepared here, run on the device machine (.devdata and .whl carried):
#   python docs/experiments/downscaled_copy.py .devdata/cxr-lung-lr
#   (wheels for Python 3.12 in .whl: monai, pytorch-ignite, pydicom, nibabel, fire, termcolor, highdicom, pyjpegls,
#    pylibjpeg*, jsonschema and its needs; the device image has torch and the rest)
#   UNET_DEADLINE=270 P2P_DEADLINE=420 bash docs/experiments/gpu_variant_sweep.sh
# A variant is s<side>[lung]: network input side, and "lung" to choose the checkpoint on the lung channels only.
# Env: UNET_EPOCHS, P2P_EPOCHS, UNET_DEADLINE, P2P_DEADLINE (seconds from start), VARIANTS, PY, SKIP_WHL, SKIP_TRAIN.
set -u
START=$(date +%s)
OUTDIR=${OUT:-/tmp/out}; mkdir -p "$OUTDIR"
if [ -d .whl ] && [ -z "${SKIP_WHL:-}" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 3
  export PYTHONPATH=/tmp/site:$PWD
fi
PY=${PY:-python3}
export PYTHONUNBUFFERED=1
$PY -c "import torch, monai, ignite, lungseg_monai.data, lungseg_monai.handlers, lungseg_monai.engines; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'monai', monai.__version__)" || exit 4
nvidia-smi --query-gpu=name,memory.total --format=csv 2>/dev/null
DATA=.devdata/cxr-lung-lr
RUNS=/tmp/runs; mkdir -p $RUNS
UNET_EPOCHS=${UNET_EPOCHS:-600}; P2P_EPOCHS=${P2P_EPOCHS:-60}
UNET_DEADLINE=${UNET_DEADLINE:-270}; P2P_DEADLINE=${P2P_DEADLINE:-420}
VARIANTS=${VARIANTS:-"s256 s384 s256lung"}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
pipeline() {
  local name=$1 size jitter extra=""
  size=${name#s}; size=${size%lung}; jitter=$(( (size * 286 + 128) / 256 ))
  [[ $name == *lung ]] && extra="docs/experiments/unet_lung_key_metric_overlay.json"
  local cfg="bundles/unet/configs/train.json"
  [ -n "$extra" ] && cfg="['bundles/unet/configs/train.json','$extra']"
  local t0=$(date +%s)
  timeout $(( START + UNET_DEADLINE - t0 )) $PY -m monai.bundle run training --config_file "$cfg" \
    --meta_file bundles/unet/configs/metadata.json --logging_file bundles/unet/configs/logging.conf \
    --dataset_dir $DATA --output_dir $RUNS/unet-$name --spatial_size "[$size,$size]" \
    --num_epochs $UNET_EPOCHS --num_workers 4 > $RUNS/unet-$name.log 2>&1
  echo "unet-$name rc=$? seconds=$(( $(date +%s) - t0 ))" | tee -a $RUNS/summary.txt
  [ -f $RUNS/unet-$name/models/model.pt ] || return
  t0=$(date +%s)
  timeout $(( START + P2P_DEADLINE - t0 )) $PY -m monai.bundle run training --config_file bundles/pix2pix/configs/train.json \
    --meta_file bundles/pix2pix/configs/metadata.json --logging_file bundles/pix2pix/configs/logging.conf \
    --dataset_dir $DATA --output_dir $RUNS/p2p-$name --spatial_size "[$size,$size]" --jitter_size "[$jitter,$jitter]" \
    --pretrained_generator $RUNS/unet-$name/models/model.pt --num_epochs $P2P_EPOCHS --num_workers 4 > $RUNS/p2p-$name.log 2>&1
  echo "p2p-$name rc=$? seconds=$(( $(date +%s) - t0 ))" | tee -a $RUNS/summary.txt
}
if [ -z "${SKIP_TRAIN:-}" ]; then for v in $VARIANTS; do pipeline $v & done; wait; fi
evaluate() {  # kind variant size
  local bundle=unet; [ $1 = p2p ] && bundle=pix2pix
  $PY docs/experiments/validation_variants.py --bundle $bundle --checkpoint $RUNS/$1-$2/models/model.pt \
    --dataset-dir $DATA --spatial-size $3 > $RUNS/eval-$1-$2.txt 2>&1
}
for v in $VARIANTS; do
  size=${v#s}; size=${size%lung}
  for kind in unet p2p; do [ -f $RUNS/$kind-$v/models/model.pt ] && evaluate $kind $v $size & done
done
wait
for v in $VARIANTS; do
  for kind in unet p2p; do
    [ -f $RUNS/$kind-$v/models/model.pt ] || continue
    best=$(grep -ho "best value: [0-9.]* at epoch: [0-9]*" $RUNS/$kind-$v.log | tail -1)
    last=$(grep -o "Epoch\[[0-9]*\] Complete" $RUNS/$kind-$v.log | tail -1)
    res=$(grep -E "flip averaging True +largest components \+ fill holes True" $RUNS/eval-$kind-$v.txt)
    echo "$kind-$v | $best | $last | $res" | tee -a $RUNS/summary.txt
  done
done
echo "elapsed $(( $(date +%s) - START ))" | tee -a $RUNS/summary.txt
# Keep the best two of each kind by validation lung Dice (fp16 weights), plus every log.
for kind in unet p2p; do
  grep "^$kind-" $RUNS/summary.txt | grep "Dice: lungs" | sed 's/.*Dice: lungs \([0-9.]*\).*/\1 &/' | sort -rn | head -2 | while read -r _ name _; do
    $PY docs/experiments/half_precision_weights.py $RUNS/$name/models/model.pt "$OUTDIR/$name.pt" >/dev/null 2>&1 || echo "fp16 of $name failed"
  done
done
cp $RUNS/summary.txt "$OUTDIR/"
tar czf "$OUTDIR/runs.tgz" -C $RUNS --exclude='*.pt' . 2>/dev/null
ls -la "$OUTDIR"
