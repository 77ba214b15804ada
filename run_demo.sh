#!/usr/bin/env bash
# The main job on the embedded default: train a small SPADE on the built-in synthetic dataset on CPU
# (config/demo.yml, a few minutes), synthesize its test set and print the path of the result page.
# Installs what is missing into a local virtual environment (.venv). No GPU, no downloads of data.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
name="demo_$(date +%Y%m%d_%H%M%S)"
"$PY" train.py --config config/demo.yml --name "$name"
"$PY" test.py --config config/demo.yml --name "$name" --how_many 16
echo "result page: $(pwd)/results/$name/test_latest/index.html"
