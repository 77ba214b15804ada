#!/usr/bin/env bash
# Synthesize the ade20k validation set with OASIS's released model (boschresearch/OASIS README), as the original
# scripts/test_ade20k.sh: unpack its oasis_ade20k folder under checkpoints/ (checkpoints/oasis_ade20k/models/best_EMA.pth,
# best_G.pth, best_D.pth: read as they are, the EMA generator by default, --no_ema for best_G.pth), then
#   DATAROOT=/path/to/ADEChallengeData2016 scripts/test_oasis_ade20k.sh [more options, e.g. --gpu_ids 0 or --how_many 50]
# The 3D noise z is random per image: --seed makes runs repeatable.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python.sh
exec "$PY" test.py --name oasis_ade20k --netG oasis --dataset_mode ade20k --ade20k_raw_labels --batchSize 32 \
  --dataroot "${DATAROOT:?set DATAROOT to the ade20k dataset folder}" --seed 0 "$@"
