#!/usr/bin/env bash
# Create .venv and install riskctl from the hash-pinned lock file. Idempotent.
# Regenerate the lock after changing pyproject.toml dependencies:
#   uv pip compile pyproject.toml --extra dev --extra report --generate-hashes --python-version 3.11 -o requirements.lock
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
# Strict editable mode: engine/ and venues/ are linked into build/ as the package riskctl
# (riskctl.venues), a real directory tree that mypy and other static tools can read; the
# default mode's import hook is invisible to them. Re-run after adding or removing a module.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
  --config-settings editable_mode=strict -e .
