#!/usr/bin/env bash
# Synthesize the coco validation set with CC-FPSE's released model, as the original test_coco.sh:
# put its files (100_net_G.pth, 100_net_E.pth) under checkpoints/coco_best/, then
#   DATAROOT=/path/to/coco_stuff scripts/test_coco.sh [more options, e.g. --gpu_ids 0 or --how_many 50]
# The released models were run with --use_vae: the style code z is random, --seed makes runs repeatable.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python.sh
exec "$PY" test.py --name coco_best --batchSize 4 --netG condconv --which_epoch 100 --dataset_mode coco --use_vae \
  --dataroot "${DATAROOT:?set DATAROOT to the coco dataset folder}" --seed 0 "$@"
