"""Redraws the plots of one or more runs from their metrics.jsonl (accuracy, loss, parameters, batch
size and step bytes against the training step).

python scripts/plot.py --workdir runs/default                      # -> runs/default/plots/*.png
python scripts/plot.py --workdir runs/a,runs/b --out runs/compare  # several runs on one figure each
"""

import pathlib
import sys

from absl import app, flags

from prunejax.report import plot_runs

_WORKDIRS = flags.DEFINE_list('workdir', None, 'Run directories (comma-separated).')
_OUT = flags.DEFINE_string('out', None, 'Output directory (default: the single workdir\'s plots/).')
flags.mark_flags_as_required(['workdir'])


def main(argv):
  del argv
  missing = [w for w in _WORKDIRS.value if not (pathlib.Path(w) / 'metrics.jsonl').exists()]
  if missing:
    sys.exit(f'error: no metrics.jsonl in {missing}; pass the --workdir of a run.')
  if len(_WORKDIRS.value) > 1 and not _OUT.value:
    sys.exit('error: with several --workdir, say where the figures go with --out DIR.')
  out = _OUT.value or pathlib.Path(_WORKDIRS.value[0]) / 'plots'
  for path in plot_runs(_WORKDIRS.value, out):
    print(path)


if __name__ == '__main__':
  app.run(main)
