"""The main job: LeNet-300-100 on Fashion-MNIST dense, pruned to 90% by gradual magnitude pruning, and
hard-pruned to 10x fewer parameters by DynHP; prints a results table (a few minutes on 2 CPU cores).

python scripts/demo.py [--workdir runs/demo] [--configs configs/default.py,...]
Each config runs in its own sub-directory of --workdir (resumable); the table is also written as JSON.
"""

import json
import pathlib
import runpy
import sys

from absl import app, flags, logging

from prunejax.errors import PrunejaxError
from prunejax.report import summary_table
from prunejax.methods import train_and_evaluate

_WORKDIR = flags.DEFINE_string('workdir', 'runs/demo', 'Root directory; one sub-directory per config.')
_CONFIGS = flags.DEFINE_list('configs', ['configs/default.py', 'configs/lenet300_gmp90_fashion_mnist.py',
                                         'configs/dynhp_lenet300_fashion_mnist.py'],
                             'Config files to run, in order.')


def main(argv):
  del argv
  if not flags.FLAGS['verbosity'].present:
    logging.set_verbosity(logging.WARNING)
  summaries = []
  for path in _CONFIGS.value:
    config = runpy.run_path(path)['get_config']()
    workdir = pathlib.Path(_WORKDIR.value) / pathlib.Path(path).stem
    print(f'== {path}: {config.model} on {config.dataset}, {config.num_epochs} epochs -> {workdir}',
          flush=True)
    try:
      summaries.append(dict(train_and_evaluate(config, workdir), config=path))
    except PrunejaxError as e:
      sys.exit(f'error: {e}')
  print('\n' + summary_table(summaries))
  out = pathlib.Path(_WORKDIR.value) / 'results.json'
  out.write_text(json.dumps(summaries, indent=2) + '\n')
  print(f'\nper-run results: {_WORKDIR.value}/<config>/summary.json; this table: {out}')


if __name__ == '__main__':
  app.run(main)
