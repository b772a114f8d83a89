"""Exports a finished run's network to an edge runtime, checks it there against JAX on the test images,
and times it: writes DIR/export/model.<format> and DIR/export/<format>_summary.json.

prunejax-export --workdir runs/default [--format tflite|stablehlo] [--quantize] [--batch N]
(or python scripts/export.py with the same flags, from a clone)
"""

import json
import os

from absl import flags, logging

from prunejax import cli, edge

_WORKDIR = flags.DEFINE_string('workdir', None, 'The --workdir of a finished run.')
_FORMAT = flags.DEFINE_enum('format', 'tflite', ['tflite', 'stablehlo'], 'Runtime format.')
_QUANTIZE = flags.DEFINE_bool('quantize', False, 'TFLite: post-training dynamic-range int8 weights.')
_BATCH = flags.DEFINE_integer('batch', None, 'A fixed batch dimension (default: any batch).')
_THREADS = flags.DEFINE_integer('threads', 2, 'CPU threads for the runtime and for timing.')
flags.mark_flags_as_required(['workdir'])


def main(argv):
  del argv
  if not flags.FLAGS['verbosity'].present:
    logging.set_verbosity(logging.ERROR)
  edge.limit_cpu_threads(_THREADS.value)
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')  # TensorFlow's C++ info and warning lines, per op
  from prunejax.export import export_run  # pylint: disable=g-import-not-at-top
  summary = export_run(_WORKDIR.value, _FORMAT.value, _QUANTIZE.value, _BATCH.value, _THREADS.value)
  print(json.dumps(summary, indent=2))


def entry() -> None:
  """The console script ``prunejax-export`` (and ``python scripts/export.py``)."""
  cli.run(main, __name__)


if __name__ == '__main__':
  entry()
