#!/usr/bin/env bash
# Idempotent set-up shared by demo.sh and test.sh: a virtual env in .venv with the tested versions
# (scripts/constraints.txt), and Fashion-MNIST's raw files from Debian where the platform provides them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: prunejax needs Python >= 3.11; set PYTHON=/path/to/python3.11 and re-run." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/.prunejax-installed
if [ ! -f "$stamp" ] || [ setup.py -nt "$stamp" ] || [ scripts/constraints.txt -nt "$stamp" ]; then
  echo "setting up .venv (first run installs jax, flax, tensorflow-cpu, ...: a few minutes)" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c scripts/constraints.txt -e '.[all,test]'
  touch "$stamp"
fi

# Offline Fashion-MNIST (Debian's dataset-fashion-mnist) when neither it nor a manual dir is there.
if [ ! -d /usr/share/datasets/fashion-mnist ] && [ -z "${PRUNEJAX_MANUAL_DIR:-}" ] \
    && command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq dataset-fashion-mnist; } >/dev/null 2>&1; then
    echo "note: could not install Debian's dataset-fashion-mnist; TFDS will download Fashion-MNIST" \
         "when online (or set PRUNEJAX_MANUAL_DIR to a directory with its IDX files)." >&2
  fi
fi
