# Sourced by the scripts: $PY is the project's .venv python when there is one (else python, or $PY as given).
PY="${PY:-python}"
if [ -x .venv/bin/python ] && [ "$PY" = python ]; then
  PY=.venv/bin/python
fi
