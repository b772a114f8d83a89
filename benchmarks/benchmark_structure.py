"""Structured pruning pays off in latency: L1 channel pruning at ratio 0.5 of every prunable group of
ResNet-20/56 (CIFAR shape), physically shrunk, against the dense model, under a CPU thread limit.

python benchmarks/benchmark_structure.py [--threads 2] [--models resnet20,resnet56] [--multiple 1] [--out ...]
Prints FLOPs ratio, latency at batch 1 and 64 (dense and pruned measured in alternating rounds, each a
median after warm-up; the speed-up is the median of the per-round ratios), speed-up / FLOP-ratio, and
the time the dependency graph and the shrink take. Writes JSON.
"""

import json
import pathlib
import time

import jax
import jax.numpy as jnp
from absl import app, flags, logging
from flax import nnx

from prunejax import edge, models, structure
from prunejax.report import summary_table
import results_file  # benchmarks/results_file.py: this script's section of RESULTS.md

_THREADS = flags.DEFINE_integer('threads', 2, 'CPU threads (the process is pinned to this many CPUs).')
_MODELS = flags.DEFINE_list('models', ['resnet20', 'resnet56'], 'Models to prune.')
_RATIO = flags.DEFINE_float('ratio', 0.5, 'Fraction of each prunable group removed.')
_MULTIPLE = flags.DEFINE_integer('multiple', 1, 'Round kept channel counts up to a multiple of this.')
_ROUNDS = flags.DEFINE_integer('rounds', 5, 'Alternating dense/pruned rounds; medians are reported.')
_OUT = flags.DEFINE_string('out', 'runs/benchmarks/structure.json', 'Where to write the JSON results.')
SHAPE = (32, 32, 3)


def measure(name):
  model = models.create_model(name, SHAPE, 10)
  x = jnp.zeros((1,) + SHAPE)
  start = time.perf_counter()
  groups = structure.trace_groups(model, x)
  graph_seconds = time.perf_counter() - start
  _, variables = structure.eval_split(model)
  keep = structure.select_channels(structure.criterion_scores(variables, groups, 'l1'), groups,
                                   _RATIO.value, multiple=_MULTIPLE.value)
  start = time.perf_counter()
  shrunk = structure.shrink(model, keep, groups)
  jax.block_until_ready(nnx.state(shrunk))
  shrink_seconds = time.perf_counter() - start
  compiled, figures = {}, {}
  for label, m in (('dense', model), ('pruned', shrunk)):
    clone = nnx.clone(m)
    clone.eval()
    eval_def, params, rest = nnx.split(clone, nnx.Param, ...)
    apply = lambda p, s, inputs, g=eval_def: nnx.merge(g, p, s)(inputs)
    figures[label] = edge.profile_model(apply, params, rest, SHAPE, batch_sizes=())
    for batch in (1, 64):
      x = jnp.zeros((batch,) + SHAPE)
      compiled[label, batch] = (jax.jit(apply).lower(params, rest, x).compile(), (params, rest, x))
  dense, pruned = figures['dense'], figures['pruned']
  flops_ratio = dense['flops_per_example'] / pruned['flops_per_example']
  row = {'model': name, 'params_ratio': dense['params_total'] / pruned['params_total'],
         'flops_ratio': flops_ratio, 'graph_s': graph_seconds, 'shrink_s': shrink_seconds}
  for batch in (1, 64):
    paired = edge.paired_latencies(compiled['dense', batch], compiled['pruned', batch], _ROUNDS.value)
    row.update({f'dense_ms_b{batch}': 1e3 * paired['baseline'], f'pruned_ms_b{batch}': 1e3 * paired['candidate'],
                f'speedup_b{batch}': paired['speedup'],
                f'speedup_per_flops_b{batch}': paired['speedup'] / flops_ratio})
  return row


def main(argv):
  del argv
  edge.limit_cpu_threads(_THREADS.value)  # before JAX's CPU client exists
  logging.set_verbosity(logging.WARNING)
  rows = [measure(name) for name in _MODELS.value]
  columns = [('model', 'model', '{}'), ('params_ratio', 'params x', '{:.2f}'),
             ('flops_ratio', 'FLOPs x', '{:.2f}')]
  for batch in (1, 64):
    columns += [(f'dense_ms_b{batch}', f'dense ms b{batch}', '{:.2f}'),
                (f'pruned_ms_b{batch}', f'pruned ms b{batch}', '{:.2f}'),
                (f'speedup_b{batch}', f'speed-up b{batch}', '{:.2f}'),
                (f'speedup_per_flops_b{batch}', f'/FLOPs b{batch}', '{:.2f}')]
  columns += [('graph_s', 'graph s', '{:.2f}'), ('shrink_s', 'shrink s', '{:.2f}')]
  print(f'threads: {_THREADS.value}, devices: {jax.devices()}')
  print(summary_table(rows, columns))
  out = pathlib.Path(_OUT.value)
  out.parent.mkdir(parents=True, exist_ok=True)
  out.write_text(json.dumps({'threads': _THREADS.value, 'rows': rows}, indent=2) + '\n')
  print(f'written to {out}')


if __name__ == '__main__':
  with results_file.recorded('structure'):
    app.run(main)
