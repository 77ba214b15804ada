#!/usr/bin/env bash
# The main job on the embedded default: train a small SPADE on the built-in synthetic dataset on CPU
# (config/demo.yml, a few minutes), synthesize its test set, score its label fidelity (mIoU of the
# built-in segmenter on synthesized vs real images) and print the path of the result page.
# Installs what is missing into a local virtual environment (.venv). No GPU, no downloads of data.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
name="demo_$(date +%Y%m%d_%H%M%S)"
"$PY" train.py --config config/demo.yml --name "$name"
"$PY" test.py --config config/demo.yml --name "$name" --miou
"$PY" scripts/demo_picture.py "results/$name/test_latest" "results/$name/test_latest/demo.png"
scripts/link_demo.sh "$name"   # checkpoints/demo and results/demo name the newest demo run
echo "result page: $(pwd)/results/$name/test_latest/index.html"
echo "next (checkpoints/demo links to $name):"
echo "  $PY test.py --name $name --config config/demo.yml --label_dir my_maps/ --label_palette semsyn"
echo "  $PY -m semsyn.app checkpoints/$name"
