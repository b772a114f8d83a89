#!/usr/bin/env bash
# Quick start (1): set up, then train the default experiments and print the results table.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup_env.sh
exec .venv/bin/python scripts/demo.py "$@"
