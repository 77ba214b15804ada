#!/usr/bin/env bash
# SCGAN on ade20k with its released model under checkpoints/<the config's name>/ (the original README's command):
#   GT=/path/to/real/images/or/stats.npz scripts/test_scgan_ade20k.sh [more options, e.g. --dataroot PATH]
# Set GPU_IDS (default 0,1,2,3; -1 for CPU). Without GT, FID is computed against the real test images.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python.sh
gt=()
[ -n "${GT:-}" ] && gt=(--gt "$GT")
exec "$PY" test.py --gpu_ids "${GPU_IDS:-0,1,2,3}" --dataset_mode ade20k --config config/scgan_ade20k.yml --fid "${gt[@]}" \
  --visual_n 1 "$@"
