#!/usr/bin/env bash
# Create .venv and install riskctl from the hash-pinned lock file. Idempotent.
# Regenerate the lock after changing pyproject.toml dependencies:
#   uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
