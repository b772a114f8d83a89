"""Cost of the pruning core, as ratios measured in one run (medians over paired rounds).

python benchmarks/benchmark_core.py [--out runs/benchmarks/core.json] [--repeats 5]

1. masked step (fixed mask) / dense step, and step with a mask refresh every 10 steps / dense step, in
   time (each round times a window of each variant in turn; the ratio is the median over rounds) and in
   XLA's compiled bytes, for the small CNN (CIFAR shape), LeNet-300-100, LeNet-5 and ResNet-20 (batch 64,
   SGD momentum, 80% uniform layer-wise magnitude);
2. one full mask refresh (global magnitude, 80%) with prunejax's bisection top-k against a full argsort,
   on synthetic parameter trees of 0.3M, 2.5M and 25M weights.
"""

import json
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import app, flags, logging

from prunejax import core, edge
from prunejax.models import create_model
from prunejax.report import summary_table
from prunejax.train import make_update_step, split_model
from prunejax.train.state import init_train_state
import results_file  # benchmarks/results_file.py: this script's section of RESULTS.md

_OUT = flags.DEFINE_string('out', 'runs/benchmarks/core.json', 'Where to write the JSON results.')
_REPEATS = flags.DEFINE_integer('repeats', 5, 'Timed windows per variant; medians are reported.')
_MODELS = flags.DEFINE_list('models', ['small_cnn', 'lenet_300_100', 'lenet5', 'resnet20'], 'Models for part 1.')
SHAPES = {'small_cnn': (32, 32, 3), 'lenet_300_100': (28, 28, 1), 'lenet5': (28, 28, 1), 'resnet20': (32, 32, 3)}
STEPS = {'small_cnn': 30, 'lenet_300_100': 200, 'lenet5': 50, 'resnet20': 10}  # per window (a multiple of 10)


def seconds_per_step(step, state, batch, steps):
  """(seconds per step over a window of ``steps``, the state after it)."""
  start = time.perf_counter()
  for _ in range(steps):
    state, metrics = step(state, *batch)
  jax.block_until_ready((state, metrics))
  return (time.perf_counter() - start) / steps, state


def step_ratios(model_name):
  shape = SHAPES[model_name]
  defs, params, model_state = split_model(create_model(model_name, shape, 10))
  keys = jax.random.split(jax.random.PRNGKey(0))
  batch = (jax.random.normal(keys[0], (64,) + shape), jax.random.randint(keys[1], (64,), 0, 10))
  selected = core.select_leaves(params)
  densities = core.layer_densities(params, selected, 0.8, 'uniform')
  masks = core.masks_layerwise(core.magnitude(params), densities)
  refresh = lambda p, s: core.masks_layerwise(core.magnitude(p), jax.tree.map(lambda d: 1 - s, densities))
  inner = lambda: optax.sgd(0.01, momentum=0.9)
  fresh_masks = lambda: jax.tree.map(jnp.copy, masks)  # every step donates its state, masks included
  variants = {
      'dense': lambda: inner(),
      'masked': lambda: core.masked_update(inner(), fresh_masks()),
      'refresh_every_10': lambda: core.masked_update(
          inner(), fresh_masks(), core.PruningSchedule('iterative', 0.8, 0, 10**9, 10), refresh),
  }
  runs, step_bytes = {}, {}
  for name, make_tx in variants.items():
    tx = make_tx()
    step = jax.jit(make_update_step(defs, tx), donate_argnums=0)
    fresh = jax.tree.map(jnp.copy, (core.apply_masks(params, masks), model_state))
    state = init_train_state(*fresh, tx, 0)
    step_bytes[name] = edge.compiled_bytes(step.lower(state, *batch).compile())
    state, _ = step(state, *batch)  # compiled and run once
    runs[name] = [step, jax.block_until_ready(state)]
  times = {name: [] for name in variants}
  for _ in range(_REPEATS.value):  # paired rounds: each variant's window in turn
    for name, run in runs.items():
      seconds, run[1] = seconds_per_step(run[0], run[1], batch, STEPS[model_name])
      times[name].append(seconds)
  ratio = lambda name: float(np.median([t / d for t, d in zip(times[name], times['dense'])]))
  median = lambda name: float(np.median(times[name]))
  params_count = sum(x.size for x in jax.tree.leaves(params))
  return {'model': model_name, 'params': params_count, 'dense_ms': 1e3 * median('dense'),
          'masked_ms': 1e3 * median('masked'), 'refresh10_ms': 1e3 * median('refresh_every_10'),
          'masked_ratio': ratio('masked'), 'refresh10_ratio': ratio('refresh_every_10'),
          'masked_bytes_ratio': step_bytes['masked'] / step_bytes['dense'],
          'refresh10_bytes_ratio': step_bytes['refresh_every_10'] / step_bytes['dense']}


def synthetic_tree(total):
  """Conv-like and dense-like leaves adding up to about ``total`` weights."""
  sizes = [total // 2, total // 4, total // 8, total - total // 2 - total // 4 - total // 8]
  keys = jax.random.split(jax.random.PRNGKey(1), len(sizes))
  return {f'layer{i}': {'kernel': jax.random.normal(k, (n,))} for i, (k, n) in enumerate(zip(keys, sizes))}


def argsort_global_masks(scores, sparsity):
  flat = jnp.concatenate([s.ravel() for s in jax.tree.leaves(scores)])
  keep = int(round((1 - sparsity) * flat.size))
  order = jnp.argsort(-flat)
  kept = jnp.zeros(flat.size, bool).at[order[:keep]].set(True)
  out, offset = [], 0
  for s in jax.tree.leaves(scores):
    out.append(kept[offset:offset + s.size].reshape(s.shape))
    offset += s.size
  return jax.tree.unflatten(jax.tree.structure(scores), out)


def time_call(fn, arg, repeats):
  jax.block_until_ready(fn(arg))
  runs = []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn(arg))
    runs.append(time.perf_counter() - start)
  return float(np.median(runs))


def refresh_times(total):
  params = synthetic_tree(total)
  selected = jax.tree.map(lambda _: True, params)
  ours = jax.jit(lambda p: core.masks_global(core.magnitude(p), selected, 0.8))
  baseline = jax.jit(lambda p: argsort_global_masks(core.magnitude(p), 0.8))
  same = all(bool(jnp.array_equal(a, b)) for a, b in zip(jax.tree.leaves(ours(params)),
                                                         jax.tree.leaves(baseline(params))))
  t_ours, t_base = time_call(ours, params, _REPEATS.value), time_call(baseline, params, _REPEATS.value)
  return {'params': total, 'bisection_ms': 1e3 * t_ours, 'argsort_ms': 1e3 * t_base,
          'speedup': t_base / t_ours, 'same_masks': same}


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  steps = [step_ratios(m) for m in _MODELS.value]
  print(summary_table(steps, (('model', 'model', '{}'), ('params', 'params', '{:,}'),
                              ('dense_ms', 'dense ms', '{:.2f}'), ('masked_ms', 'masked ms', '{:.2f}'),
                              ('refresh10_ms', 'refresh/10 ms', '{:.2f}'),
                              ('masked_ratio', 'masked/dense', '{:.3f}'),
                              ('refresh10_ratio', 'refresh/dense', '{:.3f}'),
                              ('masked_bytes_ratio', 'masked/dense bytes', '{:.3f}'),
                              ('refresh10_bytes_ratio', 'refresh/dense bytes', '{:.3f}'))))
  print('Goals (issue 32): masked/dense time <= 1.02 and bytes <= 1.10; refresh/dense time <= 1.05.')
  refresh = [refresh_times(n) for n in (300_000, 2_500_000, 25_000_000)]
  print()
  print(summary_table(refresh, (('params', 'params', '{:,}'), ('bisection_ms', 'bisection ms', '{:.1f}'),
                                ('argsort_ms', 'argsort ms', '{:.1f}'), ('speedup', 'speed-up', '{:.2f}'),
                                ('same_masks', 'same masks', '{}'))))
  out = pathlib.Path(_OUT.value)
  out.parent.mkdir(parents=True, exist_ok=True)
  out.write_text(json.dumps({'devices': str(jax.devices()), 'steps': steps, 'refresh': refresh}, indent=2))
  print(f'written to {out}')


if __name__ == '__main__':
  with results_file.recorded('core'):
    app.run(main)
