#!/usr/bin/env bash
# The main job on a fresh clone: set up, train the U-Net bundle briefly on the embedded sample,
# then segment the embedded sample radiographs (PNG and DICOM) with the shipped model.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
EPOCHS="${EPOCHS:-5}"
python -m monai.bundle run training \
    --config_file bundles/unet/configs/train.json \
    --num_epochs "$EPOCHS" --val_interval 1 --output_dir runs/unet-sample --resume False
lungseg --bundle unet --input-dir sample_data/cxr-lung-lr-sample/images --output-dir outputs/unet-sample/images --overwrite
lungseg --bundle unet --input-dir sample_data/dicom --output-dir outputs/unet-sample/dicom --overwrite
echo "trained checkpoint: runs/unet-sample/models/model.pt"
echo "masks, overlays, DICOM SEG and records: outputs/unet-sample/{images,dicom}/ (run_summary.csv lists every file)"
