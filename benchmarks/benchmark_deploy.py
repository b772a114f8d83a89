"""Where structured pruning should pay: the same dense and L1-pruned networks (every prunable group at
ratio 0.5, physically shrunk; CIFAR shape) in XLA on the CPU and in the TFLite/LiteRT interpreter
(XNNPACK), at batch 1 and 64 under a thread limit: latency, speed-up, speed-up ÷ FLOPs ratio, file size.

python benchmarks/benchmark_deploy.py [--threads 2] [--models resnet20,resnet56] [--multiple 16] [--runs DIR,...]
    [--interpreters litert,tensorflow] [--out ...]
Dense and pruned are timed in alternating rounds (medians of per-round ratios), per runtime.
"""


import jax
import numpy as np
from absl import flags, logging

from prunejax import cli, edge
from prunejax.report import summary_table, write_rows
import results_file  # benchmarks/results_file.py: this script's section of RESULTS.md

_THREADS = flags.DEFINE_integer('threads', 2, 'CPU threads for both runtimes (the process is pinned).')
_MODELS = flags.DEFINE_list('models', ['resnet20', 'resnet56'], 'Models to prune.')
_ROUNDS = flags.DEFINE_integer('rounds', 5, 'Alternating dense/pruned rounds; medians are reported.')
_MULTIPLE = flags.DEFINE_integer('multiple', 1, 'L1 pruning: kept channel counts rounded up to this.')
_RUNS = flags.DEFINE_list('runs', [], 'Workdirs of finished runs (e.g. DynHP, Reconvene): each network '
                          'against a fresh copy of its original model, at the run\'s input shape.')
_INTERPRETERS = flags.DEFINE_list('interpreters', ['litert'], 'TFLite interpreters to time the same '
                                  'flatbuffers in: litert (ai_edge_litert), tensorflow (tf.lite, deprecated).')
_OUT = flags.DEFINE_string('out', 'runs/benchmarks/deploy.json', 'Where to write the JSON results.')
SHAPE = (32, 32, 3)


def measure(name, fns, flops_ratio, shape):
  from prunejax.export import TfliteRunner, to_tflite  # pylint: disable=g-import-not-at-top
  rows = []
  for batch in (1, 64):
    # One flatbuffer per batch size, as a deployment has: LiteRT's XNNPACK runs a file whose batch
    # dimension is resized at run time slower than one converted at that batch (export measures both).
    blobs = [to_tflite(fn, shape, batch) for fn in fns]
    runtimes = {'xla': [jax.jit(fn) for fn in fns]}
    for interpreter in _INTERPRETERS.value:  # 'tflite' is LiteRT's interpreter, 'tflite_tf' TensorFlow's
      runtimes['tflite' if interpreter == 'litert' else 'tflite_tf'] = [
          TfliteRunner(blob, _THREADS.value, interpreter) for blob in blobs]
    x = np.zeros((batch,) + tuple(shape), np.float32)
    for runtime, (base, candidate) in runtimes.items():
      timing = edge.paired_latencies((base, (x,)), (candidate, (x,)), rounds=_ROUNDS.value)
      rows.append({'model': name, 'runtime': runtime, 'batch': batch, 'threads': _THREADS.value,
                   'dense_ms': 1e3 * timing['baseline'], 'pruned_ms': 1e3 * timing['candidate'],
                   'speedup': timing['speedup'], 'flops_ratio': flops_ratio,
                   'speedup_per_flops_ratio': timing['speedup'] / flops_ratio,
                   'tflite_kib_dense': len(blobs[0]) / 1024, 'tflite_kib_pruned': len(blobs[1]) / 1024})
  return sorted(rows, key=lambda row: (row['runtime'] != 'xla', row['runtime'], row['batch']))


COLUMNS = (('model', 'model', '{}'), ('runtime', 'runtime', '{}'), ('batch', 'batch', '{}'),
           ('dense_ms', 'dense ms', '{:.2f}'), ('pruned_ms', 'pruned ms', '{:.2f}'),
           ('speedup', 'speed-up', '{:.2f}'), ('flops_ratio', 'FLOPs ratio', '{:.2f}'),
           ('speedup_per_flops_ratio', 'speed-up/FLOPs', '{:.2f}'))


def main(argv):
  del argv
  logging.set_verbosity(logging.ERROR)
  edge.limit_cpu_threads(_THREADS.value)
  from prunejax import export  # pylint: disable=g-import-not-at-top
  for interpreter in _INTERPRETERS.value:
    export.interpreter_class(interpreter)  # an unknown name fails here, before minutes of conversions
  rows = []
  for name in _MODELS.value:
    rows += measure(name, *export.dense_and_pruned(name, SHAPE, multiple=_MULTIPLE.value), SHAPE)
  for workdir in _RUNS.value:
    fns, flops_ratio, shape = export.original_and_run(workdir)
    rows += measure(workdir.rstrip('/').split('/')[-1], fns, flops_ratio, shape)
  print(summary_table(rows, COLUMNS))
  write_rows(rows, _OUT.value)


if __name__ == '__main__':
  with results_file.recorded('deploy'):
    cli.run(main)
