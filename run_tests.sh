#!/usr/bin/env bash
# Install the project into a local virtual environment (.venv) and run the whole test suite.
# Usage: ./run_tests.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
exec "$PY" -m pytest -q "$@"
