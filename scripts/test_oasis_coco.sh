#!/usr/bin/env bash
# Synthesize the coco validation set with OASIS's released model (boschresearch/OASIS README), as the original
# scripts/test_coco.sh: unpack its oasis_coco folder under checkpoints/ (checkpoints/oasis_coco/models/best_EMA.pth,
# best_G.pth, best_D.pth: read as they are, the EMA generator by default, --no_ema for best_G.pth), then
#   DATAROOT=/path/to/cocostuff scripts/test_oasis_coco.sh [more options, e.g. --gpu_ids 0 or --how_many 50]
# The 3D noise z is random per image: --seed makes runs repeatable.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python.sh
exec "$PY" test.py --name oasis_coco --netG oasis --dataset_mode coco --dontcare_first --batchSize 32 \
  --dataroot "${DATAROOT:?set DATAROOT to the coco dataset folder}" --seed 0 "$@"
