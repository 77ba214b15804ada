#!/usr/bin/env bash
# Usage: scripts/link_demo.sh RUN_NAME  (run from the repository root, as run_demo.sh does)
# Points checkpoints/demo and results/demo at the demo run RUN_NAME; a real folder named demo is left alone.
set -euo pipefail
name="$1"
for dir in checkpoints results; do
  if [ -L "$dir/demo" ] || [ ! -e "$dir/demo" ]; then ln -sfn "$name" "$dir/demo"; fi
done
