"""Trains one config and writes the results contract (summary.json, metrics.jsonl, TensorBoard, checkpoints).

prunejax-train --config configs/default.py --workdir runs/default [--config.field=value ...]
(or python scripts/train.py with the same flags, from a clone)
Re-running the same command with the same --workdir resumes from the latest checkpoint.
"""

import json

from absl import flags, logging
from ml_collections import config_flags

from prunejax import cli
from prunejax.methods import train_and_evaluate

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Path to a config file in configs/.')
_WORKDIR = flags.DEFINE_string('workdir', None, 'Directory for checkpoints, metrics and summary.json.')
flags.mark_flags_as_required(['config', 'workdir'])


def main(argv):
  del argv
  if not flags.FLAGS['verbosity'].present:
    logging.set_verbosity(logging.WARNING)  # Orbax logs every file it writes at INFO.
  summary = train_and_evaluate(_CONFIG.value, _WORKDIR.value)
  print(json.dumps(summary, indent=2))


def entry() -> None:
  """The console script ``prunejax-train`` (and ``python scripts/train.py``)."""
  cli.run(main, __name__, multi_process=True)


if __name__ == '__main__':
  entry()
