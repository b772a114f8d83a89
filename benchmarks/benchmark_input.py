"""Input-pipeline overhead: a real-data training step (device-resident split, batch gathered by index
inside jit, normalised, optionally augmented) against the same update on a fixed in-memory batch.

python benchmarks/benchmark_input.py [--models lenet_300_100,lenet5,resnet20] [--repeats 7]
Prints step times (median over repeats of ~1 s windows) and the ratio real/fixed; writes JSON.
"""

import json
import pathlib
import runpy
import tempfile
import time

import jax
import jax.numpy as jnp
from absl import app, flags, logging

from prunejax.data import gather_batch
from prunejax.report import summary_table
from prunejax.train import Cursor, Run, make_update_step
import results_file  # benchmarks/results_file.py: this script's section of RESULTS.md

_MODELS = flags.DEFINE_list('models', ['lenet_300_100', 'lenet5', 'resnet20'], 'Models to measure.')
_CONFIG = flags.DEFINE_string('config', 'configs/default.py', 'Base config (dataset, batch size).')
_WINDOW = flags.DEFINE_float('window_seconds', 1.0, 'Length of one timed window (steps are calibrated).')
_REPEATS = flags.DEFINE_integer('repeats', 7, 'Timed windows per variant; the median is reported.')
_OUT = flags.DEFINE_string('out', 'runs/benchmarks/input.json', 'Where to write the JSON results.')


def time_steps(step_fn, state, args_for_step, repeats):
  """Median over ``repeats`` windows of the mean seconds per step; state threads through (donated).

  The number of steps per window is calibrated so a window lasts about --window_seconds.
  """
  state, _ = step_fn(state, *args_for_step(0))  # compile + warm-up
  jax.block_until_ready(state)
  start = time.perf_counter()
  state, _ = step_fn(state, *args_for_step(0))
  jax.block_until_ready(state)
  steps = max(3, int(_WINDOW.value / max(time.perf_counter() - start, 1e-6)))
  windows = []
  for r in range(repeats):
    start = time.perf_counter()
    for i in range(steps):
      state, metrics = step_fn(state, *args_for_step(1 + r * steps + i))
    jax.block_until_ready((state, metrics))
    windows.append((time.perf_counter() - start) / steps)
  return sorted(windows)[len(windows) // 2], state


def measure(model: str, augment: bool):
  config = runpy.run_path(_CONFIG.value)['get_config']()
  config.model, config.augment = model, augment
  config.input_pipeline = 'device'  # measured here: the device-resident split gathered by index
  run = Run(config, tempfile.mkdtemp(prefix='benchmark_input_'))
  images, labels = run.device_split()
  cursor = Cursor()
  indices = lambda: jnp.asarray(cursor.take(config.seed, len(labels), config.batch_size)[0])
  step, prime = run.compiled_train_step()
  real, state = time_steps(step, prime(run.state), lambda i: (images, labels, indices()),
                           _REPEATS.value)
  # The baseline: the same update on one batch that is already normalised and on the device.
  x, y = gather_batch(images, labels, indices(), run.mean, run.std)
  update = jax.jit(make_update_step(run.defs, run.optimizer), donate_argnums=0)
  fixed, _ = time_steps(update, state, lambda i: (x, y), _REPEATS.value)
  return {'model': model, 'dataset': config.dataset, 'augment': augment, 'batch_size': config.batch_size,
          'real_ms': 1e3 * real, 'fixed_ms': 1e3 * fixed, 'ratio': real / fixed}


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  rows = [measure(model, augment) for model in _MODELS.value for augment in (False, True)]
  columns = (('model', 'model', '{}'), ('augment', 'augment', '{}'), ('batch_size', 'batch', '{}'),
             ('real_ms', 'real-data ms', '{:.3f}'), ('fixed_ms', 'fixed-batch ms', '{:.3f}'),
             ('ratio', 'ratio', '{:.3f}'))
  print(summary_table(rows, columns))
  out = pathlib.Path(_OUT.value)
  out.parent.mkdir(parents=True, exist_ok=True)
  out.write_text(json.dumps({'devices': str(jax.devices()), 'rows': rows}, indent=2) + '\n')
  print(f'written to {out}')


if __name__ == '__main__':
  with results_file.recorded('input'):
    app.run(main)
