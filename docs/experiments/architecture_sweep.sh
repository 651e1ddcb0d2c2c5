#!/bin/bash
# Issue #33: each architecture of docs/experiments/architectures/ and the bundle's U-Net, trained with the U-Net
# bundle's recipe (its train.json: data, splits, augmentation, loss, schedule, checkpoint rule; only network_def
# differs) for the same number of epochs, then evaluated alone (network_alone.json: no second opinion averaged in)
# with evaluate.json on the validation split. Trains on the CPU here, or on the device machine's GPU.
#   EPOCHS=40 bash docs/experiments/architecture_sweep.sh            # train and evaluate on validation
#   SPLIT=test SKIP_TRAIN=1 bash docs/experiments/architecture_sweep.sh  # once a choice is made: test, once
#   STRESS=1 SKIP_TRAIN=1 bash docs/experiments/architecture_sweep.sh  # validation again, with the stress benchmark
# Env: EPOCHS (40), ARCHS ("unet attention_unet flexible_unet_resnet18 segresnet"), DATA, RUNS (runs/architectures),
# SPLIT (validation), SKIP_TRAIN, STRESS (evaluate.json --opacity_stress true: 17 times an evaluation's time), PY.
# Writes $RUNS/<arch>/ (checkpoints, eval-<split>/), $RUNS/<arch>.train.log and $RUNS/timings.txt (training wall
# seconds per architecture).
set -u
PY=${PY:-python}
EPOCHS=${EPOCHS:-40}
ARCHS=${ARCHS:-"unet attention_unet flexible_unet_resnet18 segresnet"}
DATA=${DATA:-../shared/data/cxr-lung-lr}
RUNS=${RUNS:-runs/architectures}
SPLIT=${SPLIT:-validation}
STRESS_ARGS=()
[ -n "${STRESS:-}" ] && STRESS_ARGS=(--opacity_stress true --dense_opacity_list data_manifests/dense_opacity_films.csv)
CONFIGS=bundles/unet/configs
mkdir -p "$RUNS"
for arch in $ARCHS; do
  overlay=""
  [ "$arch" != unet ] && overlay=",'docs/experiments/architectures/$arch.json'"
  if [ -z "${SKIP_TRAIN:-}" ]; then
    t0=$(date +%s)
    $PY -m monai.bundle run training --config_file "['$CONFIGS/train.json'$overlay]" \
      --meta_file $CONFIGS/metadata.json --logging_file $CONFIGS/logging.conf \
      --dataset_dir "$DATA" --output_dir "$RUNS/$arch" --num_epochs "$EPOCHS" --resume False > "$RUNS/$arch.train.log" 2>&1
    echo "$arch rc=$? epochs=$EPOCHS seconds=$(( $(date +%s) - t0 ))" | tee -a "$RUNS/timings.txt"
  fi
  $PY -m monai.bundle run --config_file "['$CONFIGS/train.json'$overlay,'$CONFIGS/evaluate.json','docs/experiments/architectures/network_alone.json']" \
    --bundle_root bundles/unet --meta_file $CONFIGS/metadata.json --logging_file $CONFIGS/logging.conf \
    --dataset_dir "$DATA" --eval_split "$SPLIT" --ckpt_path "$RUNS/$arch/models/model.pt" \
    --output_dir "$RUNS/$arch/eval-$SPLIT" "${STRESS_ARGS[@]}" > "$RUNS/$arch.eval-$SPLIT.log" 2>&1
  echo "$arch eval $SPLIT rc=$?" | tee -a "$RUNS/timings.txt"
done
