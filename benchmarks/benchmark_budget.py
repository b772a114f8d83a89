"""Memory freed by shrinking, spent on batch size (DynHP's dynamic batch sizing): the budget is the dense
model's compiled training step at --batch; after keeping a fraction of every prunable channel group, the
largest batch (a multiple of 8) whose step fits the same budget.

python benchmarks/benchmark_budget.py [--models lenet_300_100,resnet20] [--batch 128] [--keep 0.5,0.25]
Prints step bytes and batches; writes JSON.
"""

import time

import jax.numpy as jnp
import numpy as np
import optax
from absl import app, flags, logging

from prunejax import edge, models, structure, train
from prunejax.report import summary_table, write_rows
import results_file  # benchmarks/results_file.py: this script's section of RESULTS.md

_MODELS = flags.DEFINE_list('models', ['lenet_300_100', 'resnet20'], 'Models (28x28x1 inputs, 10 classes).')
_BATCH = flags.DEFINE_integer('batch', 128, 'Dense batch size that sets the memory budget.')
_KEEP = flags.DEFINE_list('keep', ['0.5', '0.25'], 'Fractions of each prunable group kept.')
_OUT = flags.DEFINE_string('out', 'runs/benchmarks/budget.json', 'Where to write the JSON results.')
SHAPE = (28, 28, 1)


def measure(name: str) -> list[dict]:
  model = models.create_model(name, SHAPE, 10)
  groups = structure.trace_groups(model, jnp.ones((1,) + SHAPE))
  defs, params, model_state = train.split_model(model)
  tx = optax.sgd(0.1, momentum=0.9)
  state = train.init_train_state(params, model_state, tx, 0)
  budget = train.update_step_bytes(defs, tx, state, _BATCH.value, SHAPE)
  rows = [{'model': name, 'keep': 1.0, 'step_mb': budget / 1e6, 'batch': _BATCH.value}]
  for fraction in map(float, _KEEP.value):
    keep = {g.name: np.arange(max(1, int(g.size * fraction))) for g in groups if g.prunable}
    small_defs, small = train.shrink_train_state(defs, state, groups, keep)
    start = time.perf_counter()
    batch = edge.largest_batch_within(
        budget, lambda b: train.update_step_bytes(small_defs, tx, small, b, SHAPE), multiple=8, limit=1 << 14)
    rows.append({'model': name, 'keep': fraction, 'batch': batch, 'search_s': time.perf_counter() - start,
                 'step_mb': train.update_step_bytes(small_defs, tx, small, batch, SHAPE) / 1e6})
  return rows


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  rows = [row for name in _MODELS.value for row in measure(name)]
  print(f'budget: the dense step at batch {_BATCH.value}')
  print(summary_table(rows, [('model', 'model', '{}'), ('keep', 'channels kept', '{:.2f}'),
                             ('batch', 'batch', '{}'), ('step_mb', 'step MB', '{:.2f}'),
                             ('search_s', 'search s', '{:.1f}')]))
  write_rows(rows, _OUT.value)


if __name__ == '__main__':
  with results_file.recorded('budget'):
    app.run(main)
