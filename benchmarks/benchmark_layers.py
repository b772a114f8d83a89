"""Where a network's CPU latency goes, by layer kind: every convolution and matrix product of its forward
pass timed alone at its shapes, summed per kind (full, pointwise, depthwise, grouped convolutions, dense),
against the whole forward pass. For finished runs (e.g. a Reconvene network) and fresh registry models
(e.g. the original it was cut from), to see which layers a speed-up comes from and which hold it back.

python benchmarks/benchmark_layers.py --models mobilenetv2 --runs runs/reconvene/produce_mobilenetv2_synflow_k6
    [--batch 64] [--threads 2] [--dataset fashion_mnist] [--out runs/benchmarks/layers.json]
Latencies are medians of --repeats calls after warm-up; each kind's ratio is against the first network.
"""

import json
import pathlib

import jax.numpy as jnp
from absl import flags, logging

from prunejax import cli, edge, models
from prunejax.data.sources import DATASET_SHAPES, check_dataset_name
from prunejax.errors import PrunejaxError
from prunejax.report import summary_table, write_rows
from prunejax.train import apply_model, load, split_model
import results_file  # benchmarks/results_file.py: this script's section of RESULTS.md

_MODELS = flags.DEFINE_list('models', [], 'Registry models, freshly initialised at --dataset\'s shape.')
_RUNS = flags.DEFINE_list('runs', [], 'Workdirs of finished runs (their saved networks, shrunk or not).')
_DATASET = flags.DEFINE_string('dataset', 'fashion_mnist', 'Input shape of the --models.')
_BATCH = flags.DEFINE_integer('batch', 64, 'Batch size of the forward pass.')
_THREADS = flags.DEFINE_integer('threads', 2, 'CPU threads (the process is pinned to this many CPUs).')
_REPEATS = flags.DEFINE_integer('repeats', 20, 'Timed calls per op and per whole pass (median).')
_OUT = flags.DEFINE_string('out', 'runs/benchmarks/layers.json', 'Where to write the JSON results.')


def networks():
  """(label, model, input shape) of each --models entry, then each --runs entry."""
  check_dataset_name(_DATASET.value)
  shape, classes = DATASET_SHAPES[_DATASET.value]
  for name in _MODELS.value:
    yield name, models.create_model(name, shape, classes, seed=0), shape
  for workdir in map(pathlib.Path, _RUNS.value):
    model = load(workdir)  # refuses a directory without checkpoints in one line
    if not (workdir / 'summary.json').is_file():
      raise PrunejaxError(f'{workdir} has no summary.json (its input shape); let the run finish first.')
    yield workdir.name, model, DATASET_SHAPES[json.loads((workdir / 'summary.json').read_text())['dataset']][0]


def main(argv):
  del argv
  logging.set_verbosity(logging.ERROR)
  edge.limit_cpu_threads(_THREADS.value)
  rows, first = [], None
  for label, model, shape in networks():
    defs, params, model_state = split_model(model)
    forward = lambda x, defs=defs, params=params, state=model_state: apply_model(defs.eval, params, state, x)
    kinds = edge.latency_by_kind(forward, jnp.zeros((_BATCH.value,) + tuple(shape)), repeats=_REPEATS.value)
    first = first or kinds
    whole = kinds['whole']['seconds']
    for kind, figures in kinds.items():
      base = first.get(kind, {}).get('seconds')
      row = {'network': label, 'kind': kind, 'count': figures['count'], 'ms': 1e3 * figures['seconds'],
             'share': figures['seconds'] / whole}
      rows.append(row | ({'speedup': base / figures['seconds']} if base and figures['seconds'] else {}))
  print(f'batch {_BATCH.value}, {_THREADS.value} threads; ops timed alone, summed per kind; speed-up against '
        'the first network')
  print(summary_table(rows, (('network', 'network', '{}'), ('kind', 'kind', '{}'), ('count', 'ops', '{}'),
                             ('ms', 'ms', '{:.2f}'), ('share', 'of whole', '{:.2f}'),
                             ('speedup', 'speed-up', '{:.2f}'))))
  write_rows(rows, _OUT.value)


if __name__ == '__main__':
  with results_file.recorded('layers'):
    cli.run(main)
