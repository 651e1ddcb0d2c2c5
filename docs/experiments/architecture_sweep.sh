#!/bin/bash
# Issue #33: each architecture of docs/experiments/architectures/ and the bundle's U-Net, trained with the U-Net
# bundle's recipe (its train.json: data, splits, augmentation, loss, schedule, checkpoint rule; only network_def
# differs) for the same number of epochs, then evaluated alone (network_alone.json: no second opinion averaged in)
# with evaluate.json on the validation split. Trains on the CPU here, or on the device machine's GPU.
#   EPOCHS=40 bash docs/experiments/architecture_sweep.sh            # train and evaluate on validation
#   SPLIT=test SKIP_TRAIN=1 bash docs/experiments/architecture_sweep.sh  # once a choice is made: test, once
#   STRESS=1 SKIP_TRAIN=1 bash docs/experiments/architecture_sweep.sh  # validation again, with the stress benchmark
#   OPACITY=1 bash docs/experiments/architecture_sweep.sh           # issue #30's recipe for every network alike
# OPACITY=1 adds #30's recipe after each network's training: a copy fine-tuned with painted opacities (RandOpacityd
# on half the films, a quarter of the learning rate, OPACITY_EPOCHS from the trained weights, as the shipped
# second_opinion.pt was made) into $RUNS/<arch>-opacity/, and an evaluation of the pair (own_second_opinion.json:
# the network with its own opacity-trained copy as second opinion, as the shipped bundle runs) into
# $RUNS/<arch>/eval-<split>-pair/, beside the network alone, always with the stress benchmark (what the pair is for).
# docs/experiments/architecture_report.sh then writes one architecture's test figures, pages and copies.
# Env: EPOCHS (40), ARCHS ("unet attention_unet flexible_unet_resnet18 segresnet"), DATA, RUNS (runs/architectures),
# SPLIT (validation), SKIP_TRAIN, STRESS (evaluate.json --opacity_stress true: 17 times an evaluation's time),
# OPACITY, OPACITY_EPOCHS (150), PY. A training already in its output folder resumes (RESUME=True) or restarts
# (RESUME=False, the default).
# Writes $RUNS/<arch>/ (checkpoints, eval-<split>/), $RUNS/<arch>.train.log and $RUNS/timings.txt (training wall
# seconds per architecture). A resumed training keeps its earlier log as $RUNS/<arch>.train.part<N>.log (N = 1, 2,
# ... oldest first; architecture_report.sh and benchmarks/architectures.py read them all); a restarted one removes
# them.
set -u
PY=${PY:-python}
EPOCHS=${EPOCHS:-40}
ARCHS=${ARCHS:-"unet attention_unet flexible_unet_resnet18 segresnet"}
DATA=${DATA:-../shared/data/cxr-lung-lr}
RUNS=${RUNS:-runs/architectures}
SPLIT=${SPLIT:-validation}
OPACITY_EPOCHS=${OPACITY_EPOCHS:-150}
RESUME=${RESUME:-False}
BENCHMARK_ARGS=(--opacity_stress true --dense_opacity_list data_manifests/dense_opacity_films.csv)
STRESS_ARGS=()  # every evaluation's (STRESS=1), or the pairs' only
PAIR_STRESS_ARGS=("${BENCHMARK_ARGS[@]}")
[ -n "${STRESS:-}" ] && STRESS_ARGS=("${BENCHMARK_ARGS[@]}") && PAIR_STRESS_ARGS=()
CONFIGS=bundles/unet/configs
OVERLAYS=docs/experiments/architectures
mkdir -p "$RUNS"

keep_earlier_log() {  # keep_earlier_log NAME: before a training writes $RUNS/NAME.train.log afresh
  local log="$RUNS/$1.train.log" n=1
  if [ "$RESUME" = True ]; then  # a resumed run's earlier segment becomes NAME.train.part<N>.log, N the next free
    [ -f "$log" ] || return 0
    while [ -e "$RUNS/$1.train.part$n.log" ]; do n=$((n + 1)); done
    mv "$log" "$RUNS/$1.train.part$n.log"
  else  # a restarted run's logs are of the run it replaces
    rm -f "$RUNS/$1".train.part*.log
  fi
}

train() {  # train NAME OVERLAY OUTPUT_DIR EPOCHS [train.json arguments]
  local name=$1 overlay=$2 output=$3 epochs=$4 t0
  shift 4
  keep_earlier_log "$name"
  t0=$(date +%s)
  $PY -m monai.bundle run training --config_file "['$CONFIGS/train.json'$overlay]" \
    --meta_file $CONFIGS/metadata.json --logging_file $CONFIGS/logging.conf \
    --dataset_dir "$DATA" --output_dir "$output" --num_epochs "$epochs" --resume "$RESUME" "$@" > "$RUNS/$name.train.log" 2>&1
  echo "$name rc=$? epochs=$epochs seconds=$(( $(date +%s) - t0 ))" | tee -a "$RUNS/timings.txt"
}

evaluate() {  # evaluate NAME OVERLAYS CHECKPOINT OUTPUT_DIR [evaluate.json arguments]
  local name=$1 overlays=$2 checkpoint=$3 output=$4
  shift 4
  $PY -m monai.bundle run --config_file "['$CONFIGS/train.json'$overlays]" \
    --bundle_root bundles/unet --meta_file $CONFIGS/metadata.json --logging_file $CONFIGS/logging.conf \
    --dataset_dir "$DATA" --eval_split "$SPLIT" --ckpt_path "$checkpoint" \
    --output_dir "$output" "${STRESS_ARGS[@]}" "$@" > "$RUNS/$name.eval-$SPLIT.log" 2>&1
  echo "$name eval $SPLIT rc=$?" | tee -a "$RUNS/timings.txt"
}

for arch in $ARCHS; do
  overlay=""
  [ "$arch" != unet ] && overlay=",'$OVERLAYS/$arch.json'"
  [ -z "${SKIP_TRAIN:-}" ] && train "$arch" "$overlay" "$RUNS/$arch" "$EPOCHS"
  evaluate "$arch" "$overlay,'$CONFIGS/evaluate.json','$OVERLAYS/network_alone.json'" \
    "$RUNS/$arch/models/model.pt" "$RUNS/$arch/eval-$SPLIT"
  if [ -n "${OPACITY:-}" ]; then
    [ -z "${SKIP_TRAIN:-}" ] && train "$arch-opacity" "$overlay" "$RUNS/$arch-opacity" "$OPACITY_EPOCHS" \
      --pretrained_network "$RUNS/$arch/models/model.pt" --opacity_prob 0.5 --learning_rate 0.00025
    evaluate "$arch-pair" "$overlay,'$CONFIGS/evaluate.json','$OVERLAYS/own_second_opinion.json'" \
      "$RUNS/$arch/models/model.pt" "$RUNS/$arch/eval-$SPLIT-pair" \
      --second_opinion_path "$RUNS/$arch-opacity/models/model.pt" "${PAIR_STRESS_ARGS[@]}"
  fi
done
