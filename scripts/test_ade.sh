#!/usr/bin/env bash
# Synthesize the ade20k validation set with CC-FPSE's released model, as the original test_ade.sh:
# put its files (200_net_G.pth, 200_net_E.pth) under checkpoints/ade_best/, then
#   DATAROOT=/path/to/ADEChallengeData2016 scripts/test_ade.sh [more options, e.g. --gpu_ids 0 or --how_many 50]
# The released models were run with --use_vae: the style code z is random, --seed makes runs repeatable.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python.sh
exec "$PY" test.py --name ade_best --batchSize 4 --netG condconv --which_epoch 200 --dataset_mode ade20k --use_vae \
  --dataroot "${DATAROOT:?set DATAROOT to the ade20k dataset folder}" --seed 0 "$@"
