#!/usr/bin/env bash
# Example training command lines, one per method and dataset (the original repositories' train.sh habit).
#   ./train.sh [scgan_celeba|scgan_ade20k|scgan_coco|ccfpse_coco|ccfpse_ade20k|ccfpse_cityscapes|spade_coco|...] [more options]
# Set GPU_IDS (default 0,1,2,3,4,5,6,7; -1 for CPU) and DATAROOT (default: the config's dataroot).
# With torchrun instead of DataParallel: see the README (batch size is then per process).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/python.sh
run="${1:-scgan_celeba}"
shift || true
gpus="${GPU_IDS:-0,1,2,3,4,5,6,7}"
root=()
[ -n "${DATAROOT:-}" ] && root=(--dataroot "$DATAROOT")
case "$run" in
  scgan_celeba)   # SCGAN's own train.sh
    exec "$PY" train.py --dataset celeba --dataset_mode celeba --gpu_ids "$gpus" --netG scg --nThread 16 --tf_log \
      --no_html --config config/scgan_celeba.yml "${root[@]}" "$@" ;;
  scgan_ade20k|scgan_coco)
    exec "$PY" train.py --dataset_mode "${run#scgan_}" --gpu_ids "$gpus" --config "config/$run.yml" "${root[@]}" "$@" ;;
  ccfpse_*|spade_*)
    exec "$PY" train.py --gpu_ids "$gpus" --config "config/$run.yml" "${root[@]}" "$@" ;;
  *)
    echo "train.sh: unknown run '$run'; one of scgan_celeba scgan_ade20k scgan_coco ccfpse_coco ccfpse_ade20k" \
      "ccfpse_cityscapes spade_coco spade_ade20k spade_cityscapes" >&2
    exit 2 ;;
esac
