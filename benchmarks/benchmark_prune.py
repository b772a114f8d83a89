"""What one DynHP hard prune costs, by part, on a real training run: scoring and selecting the units,
shrinking params + BatchNorm statistics + optimizer state, the batch-size search (compiles of the
step's memory analysis, and how many), and the first step at the new shape (its compile). Median of --prunes prunes,
each removing --rate of the remaining units; the dense step's time is the baseline in the same run. The
compilation cache is a fresh directory: the shapes repeat from one benchmark run to the next, a real
run's prunes meet new ones.

python benchmarks/benchmark_prune.py [--models lenet5,resnet20] [--prunes 3] [--rate 0.2]
"""

import os
import runpy
import tempfile
import time

import jax
import numpy as np
from absl import app, flags, logging

from prunejax.methods import dynhp
from prunejax.report import summary_table, write_rows
from prunejax.train import Run, compile_cache
import results_file  # benchmarks/results_file.py: this script's section of RESULTS.md

_MODELS = flags.DEFINE_list('models', ['lenet5', 'resnet20'], 'Registry models (Fashion-MNIST inputs).')
_PRUNES = flags.DEFINE_integer('prunes', 3, 'Prunes timed per model (median reported).')
_RATE = flags.DEFINE_float('rate', 0.2, 'Share of the remaining units removed per prune.')
_OUT = flags.DEFINE_string('out', 'runs/benchmarks/prune.json', 'Where to write the JSON results.')


def timed(fn):
  start = time.perf_counter()
  result = fn()
  jax.block_until_ready(result)
  return result, time.perf_counter() - start


def measure(model: str) -> dict:
  config = runpy.run_path('configs/dynhp_lenet300_fashion_mnist.py')['get_config']()
  config.model, config.progress_bar, config.dynhp.rate = model, False, _RATE.value
  run = Run(config, tempfile.mkdtemp(prefix='benchmark_prune_'))
  plan = dynhp._plan(run, config.dynhp)  # pylint: disable=protected-access
  run.train('warm-up', steps=3)
  _, dense_step = timed(lambda: run.train('dense step', steps=10))
  parts = {'select_s': [], 'shrink_s': [], 'batch_search_s': [], 'search_compiles': [], 'first_step_s': [],
           'later_step_s': []}
  for _ in range(_PRUNES.value):
    keep, t = timed(lambda: dynhp.units_to_keep(run, config.dynhp, 1))
    parts['select_s'].append(t)
    parts['shrink_s'].append(timed(lambda: (run.shrink(keep), run.state)[1])[1])
    probed = len(run.compiled._bytes)  # pylint: disable=protected-access
    batch, t = timed(lambda: dynhp.largest_batch(run, plan['budget_bytes'], config.dynhp.max_batch_size))
    parts['batch_search_s'].append(t)
    parts['search_compiles'].append(len(run.compiled._bytes) - probed)  # pylint: disable=protected-access
    run.set_batch_size(batch)
    parts['first_step_s'].append(timed(lambda: run.train('after prune', steps=1))[1])
    parts['later_step_s'].append(timed(lambda: run.train('after prune', steps=5))[1] / 5)
  run.close()
  row = {'model': model, 'dense_step_s': dense_step / 10, 'compiles': sum(run.compiles.values()),
         'shapes': len(run.compiles), **{k: float(np.median(v)) for k, v in parts.items()}}
  row['prune_total_s'] = row['select_s'] + row['shrink_s'] + row['batch_search_s'] + row['first_step_s']
  row['prune_in_dense_steps'] = row['prune_total_s'] / row['dense_step_s']
  return row


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  with tempfile.TemporaryDirectory(prefix='benchmark_prune_cache_') as cache:
    os.environ[compile_cache.ENV] = cache
    rows = [measure(model) for model in _MODELS.value]
  columns = [('model', 'model', '{}'), ('dense_step_s', 'dense step s', '{:.3f}'),
             ('select_s', 'score+select s', '{:.2f}'), ('shrink_s', 'shrink s', '{:.2f}'),
             ('batch_search_s', 'batch search s', '{:.2f}'), ('search_compiles', 'search compiles', '{:.0f}'),
             ('first_step_s', 'first step s', '{:.2f}'),
             ('prune_total_s', 'prune total s', '{:.2f}'), ('prune_in_dense_steps', '= dense steps', '{:.0f}'),
             ('compiles', 'step compiles', '{}'), ('shapes', 'distinct shapes', '{}')]
  print(summary_table(rows, columns))
  write_rows(rows, _OUT.value)


if __name__ == '__main__':
  with results_file.recorded('prune'):
    app.run(main)
