#!/bin/bash
# Issue #33: one architecture's full-recipe results, after its training with
#   RESUME=True OPACITY=1 ARCHS=<arch> EPOCHS=600 RUNS=runs/architectures-full bash docs/experiments/architecture_sweep.sh
# (the network, its opacity-trained copy, and the validation evaluations of the network alone and of the pair).
#   ARCH=segresnet bash docs/experiments/architecture_report.sh
# Steps, each skipped where its output is already there (so a killed run goes on where it stopped):
#  1. where a pair's validation report lacks the stress benchmark (architecture_sweep.sh's pair evaluation had it only
#     with STRESS=1 before 0.8.5), the pair again with it, through the sweep (SKIP_TRAIN=1 OPACITY=1, which also
#     re-evaluates the network alone), and the shipped U-Net pair the same way (runs/architectures-full/unet/models/
#     model.pt and unet-opacity/models/model.pt: copies of the bundle's model.pt and second_opinion.pt);
#  2. test, once, each network alone (the sweep with SPLIT=test), and the Pix2Pix bundle's generator;
#  3. model facts (benchmarks/architectures.py: parameters, float16 size, CPU time per film, training time);
#  4. lungseg-compare pages, the U-Net the baseline: validation and test (networks alone: the U-Net, Pix2Pix and the
#     architecture), and validation with second opinions (the two pairs, with the stress curves);
#  5. a copy under $RESULTS/<arch>/: the pages, each run's per_case.csv, summary.json and opacity_stress.csv
#     (reports/: every page can be rebuilt with lungseg-compare --reports), the training logs of the network and
#     its opacity-trained copy (epoch lines; a resumed run's earlier logs, which the sweep keeps as
#     <name>.train.part<N>.log, first), facts.json and timings.txt. No weights.
# Env: ARCH (required), RUNS (runs/architectures-full), RESULTS (docs/results/architectures/full_recipe), DATA, PY,
# COMPARE (.venv/bin/lungseg-compare).
# The quality-score figures in the architecture's own reports (summary.json's quality_score, the stress table's
# marked_check) apply the U-Net's fitted score to another network's output: they say nothing about that network.
set -eu
ARCH=${ARCH:?ARCH=<architecture of docs/experiments/architectures/>}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/architectures-full}
RESULTS=${RESULTS:-docs/results/architectures/full_recipe}
DATA=${DATA:-../shared/data/cxr-lung-lr}
OVERLAYS=docs/experiments/architectures
COMPARE=(${COMPARE:-.venv/bin/lungseg-compare})

has_stress() {  # has_stress REPORT_DIR: its summary.json has the stress benchmark
  [ -f "$1/summary.json" ] && grep -q '"opacity_stress"' "$1/summary.json"
}

epoch_lines() {  # epoch_lines LOG: the log without progress bars, per-iteration losses and blank lines
  tr '\r' '\n' < "$1" | sed -E 's/^.*([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3} - )/\1/; s/\s+$//' |
    grep -v -E 'Iter: [0-9]+/[0-9]+ -- |it/s\]|\]  *[0-9]+%\||^$' || true
}

training_log() {  # training_log NAME: epoch lines of $RUNS/NAME.train.log, after a resumed run's earlier segments
  local segments  # NAME.train.part<N>.log by N (sort -V: part10 after part9), as benchmarks/architectures.py does
  mapfile -t segments < <(ls "$RUNS/$1".train.part*.log 2>/dev/null | sort -V)
  segments+=("$RUNS/$1.train.log")
  for i in "${!segments[@]}"; do
    [ ${#segments[@]} -gt 1 ] && echo "===== segment $((i + 1)) of ${#segments[@]} ($(basename "${segments[$i]}");" \
      "each later segment resumed the run from its newest checkpoint) ====="
    epoch_lines "${segments[$i]}"
  done
}

sweep() {  # sweep: architecture_sweep.sh's evaluations (SKIP_TRAIN) with this script's folders; ARCHS, SPLIT, OPACITY
  RUNS="$RUNS" PY="$PY" DATA="$DATA" SKIP_TRAIN=1 bash docs/experiments/architecture_sweep.sh
}

for name in "$ARCH" unet; do  # 1. the pairs with the stress benchmark (and the network alone again: same figures)
  if ! has_stress "$RUNS/$name/eval-validation-pair"; then
    rm -rf "$RUNS/$name/eval-validation-pair"
    ARCHS=$name SPLIT=validation OPACITY=1 sweep
  fi
done
for name in "$ARCH" unet; do  # 2. test, once, networks alone
  [ -f "$RUNS/$name/eval-test/summary.json" ] || ARCHS=$name SPLIT=test sweep
done
for split in validation test; do
  [ -f "$RUNS/pix2pix/eval-$split/summary.json" ] && continue
  $PY -m monai.bundle run --config_file "['bundles/pix2pix/configs/train.json','bundles/pix2pix/configs/evaluate.json','$OVERLAYS/network_alone.json']" \
    --bundle_root bundles/pix2pix --dataset_dir "$DATA" --eval_split "$split" \
    --output_dir "$RUNS/pix2pix/eval-$split" > "$RUNS/pix2pix.eval-$split.log" 2>&1
  echo "pix2pix eval $split rc=0" | tee -a "$RUNS/timings.txt"
done

facts="$RUNS/$ARCH.facts.json"  # 3.
[ -f "$facts" ] || $PY benchmarks/architectures.py --architectures unet "$ARCH" --runs "$RUNS" --output "$facts"

out="$RESULTS/$ARCH"  # 4. and 5.
mkdir -p "$out/reports"
for split in validation test; do
  "${COMPARE[@]}" --baseline unet --facts "$facts" --output "$out/$split" --reports \
    unet="$RUNS/unet/eval-$split" pix2pix="$RUNS/pix2pix/eval-$split" "$ARCH=$RUNS/$ARCH/eval-$split"
done
"${COMPARE[@]}" --baseline unet --facts "$facts" --output "$out/validation_with_second_opinions" \
  --reports unet="$RUNS/unet/eval-validation-pair" "$ARCH=$RUNS/$ARCH/eval-validation-pair"
for run in unet-validation unet-test unet-validation-pair pix2pix-validation pix2pix-test \
  "$ARCH-validation" "$ARCH-test" "$ARCH-validation-pair"; do
  name=${run%%-*}
  folder=${run#"$name"-}
  mkdir -p "$out/reports/$run"
  cp "$RUNS/$name/eval-$folder/per_case.csv" "$RUNS/$name/eval-$folder/summary.json" "$out/reports/$run/"
  if [ -f "$RUNS/$name/eval-$folder/opacity_stress.csv" ]; then
    cp "$RUNS/$name/eval-$folder/opacity_stress.csv" "$out/reports/$run/"
  fi
done
training_log "$ARCH" > "$out/$ARCH.train.log"
training_log "$ARCH-opacity" > "$out/$ARCH-opacity.train.log"
cp "$facts" "$out/facts.json"
grep -E "^($ARCH|unet|pix2pix)[ -]" "$RUNS/timings.txt" > "$out/timings.txt" || true
echo "written: $out"
