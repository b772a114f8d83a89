#!/usr/bin/env bash
# Quick start (2): set up, then run the test suite on both CPU cores (pytest-xdist; a few minutes).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup_env.sh
exec .venv/bin/python -m pytest -n "${PRUNEJAX_TEST_WORKERS:-2}" tests "$@"
