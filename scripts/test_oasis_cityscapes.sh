#!/usr/bin/env bash
# Synthesize the cityscapes validation set with OASIS's released model (boschresearch/OASIS README), as the original
# scripts/test_cityscapes.sh: unpack its oasis_cityscapes folder under checkpoints/ (checkpoints/oasis_cityscapes/models/best_EMA.pth,
# best_G.pth, best_D.pth: read as they are, the EMA generator by default, --no_ema for best_G.pth), then
#   DATAROOT=/path/to/cityscapes scripts/test_oasis_cityscapes.sh [more options, e.g. --gpu_ids 0 or --how_many 50]
# The 3D noise z is random per image: --seed makes runs repeatable.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python.sh
exec "$PY" test.py --name oasis_cityscapes --netG oasis --dataset_mode cityscapes --label_nc 34 --crop_size 512 --load_size 512 --batchSize 32 \
  --dataroot "${DATAROOT:?set DATAROOT to the cityscapes dataset folder}" --seed 0 "$@"
