#!/usr/bin/env bash
# Checks prunejax on the accelerator of this machine and prints one JSON line (prunejax/commands/
# accelerator_check.py says what it checks and measures). Runs from a clone where JAX with a GPU or TPU
# backend is installed and nothing can be downloaded: it needs jax, flax, optax, orbax-checkpoint, chex,
# ml_collections, absl and numpy, and uses prunejax from this clone. --cpu: on the CPU backend instead;
# --small: the CPU-sized variant the test suite runs. Exit status 1 when a check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python=${PYTHON:-python3}
if [ -z "${PYTHON:-}" ] && [ -x .venv/bin/python ] && [[ " $* " == *" --cpu "* ]]; then
  python=.venv/bin/python
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PRUNEJAX_DATA_DIR="${PRUNEJAX_DATA_DIR:-$(mktemp -d)}"  # the synthetic data only; nothing shared
exec "$python" -m prunejax.commands.accelerator_check "$@"
