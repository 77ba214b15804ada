# Sourced by run_demo.sh and run_tests.sh: create .venv when missing, install what is missing, set $PY.
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
# reinstall only when requirements or package metadata changed since the last install
stamp="$VENV/.semsyn-installed"
if [ ! -f "$stamp" ] || [ requirements.txt -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  "$PY" -m pip install --quiet --upgrade pip
  "$PY" -m pip install --quiet -r requirements.txt
  "$PY" -m pip install --quiet -e ".[test]"
  touch "$stamp"
fi
