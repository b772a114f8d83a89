#!/usr/bin/env bash
# Checks prunejax on the accelerator of this machine and prints one JSON line (prunejax/commands/
# accelerator_check.py says what it checks and measures). Runs from a clone where JAX with a GPU or TPU
# backend is installed and nothing can be downloaded: it needs jax, flax, optax, orbax-checkpoint, chex,
# ml_collections, absl and numpy, and uses prunejax from this clone. --cpu: on the CPU backend instead;
# --small: the CPU-sized variant the test suite runs. Exit status 1 when a check fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python=${PYTHON:-python3}
if [ -z "${PYTHON:-}" ] && [ -x .venv/bin/python ]; then
  python=.venv/bin/python  # the clone's environment (docs/devices.md installs the accelerator's jax there)
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ -z "${PRUNEJAX_DATA_DIR:-}" ]; then  # the synthetic data only, in a directory removed at the end
  PRUNEJAX_DATA_DIR=$(mktemp -d)
  export PRUNEJAX_DATA_DIR
  trap 'rm -rf "$PRUNEJAX_DATA_DIR"' EXIT
fi
"$python" -m prunejax.commands.accelerator_check "$@"
