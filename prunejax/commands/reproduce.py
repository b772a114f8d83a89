"""Reproduces one paper's experiments as a grid of resumable runs and writes runs/<paper>/REPORT.md.

prunejax-reproduce dynhp [--quick] [--ablation] [--root runs/dynhp]
prunejax-reproduce reconvene --only_production   (the full mode's production grid: no training)
(or python scripts/reproduce.py with the same flags, from a clone)
Re-running resumes: finished runs are read back, an interrupted one continues from its checkpoint.
"""

import pathlib
import sys

from absl import flags, logging

from prunejax import cli
from prunejax.reproductions import PAPERS

_QUICK = flags.DEFINE_bool('quick', False, 'Short settings (minutes on 2 CPU cores) instead of the full grid.')
_ABLATION = flags.DEFINE_bool('ablation', None, 'Also run the ablations (default: in full mode only).')
_ROOT = flags.DEFINE_string('root', None, 'Directory of the runs and REPORT.md (default runs/<paper>[_quick]).')
_ONLY_PRODUCTION = flags.DEFINE_bool(
    'only_production', False, 'reconvene only: just the production grid (no training; the CPU part of the full '
    'mode: four models, five scorers, eight sparsities).')


def main(argv):
  if len(argv) != 2 or argv[1] not in PAPERS:
    sys.exit(f'usage: prunejax-reproduce {{{",".join(sorted(PAPERS))}}} [--quick]')
  if not flags.FLAGS['verbosity'].present:
    logging.set_verbosity(logging.WARNING)
  paper = argv[1]
  if _ONLY_PRODUCTION.value and paper != 'reconvene':
    sys.exit(f'--only_production applies to reconvene (its production grid), not to {paper}; drop the flag.')
  root = pathlib.Path(_ROOT.value or f'runs/{paper}{"_quick" if _QUICK.value else ""}')
  options = {'only_production': True} if _ONLY_PRODUCTION.value else {}
  report = PAPERS[paper](root, _QUICK.value, _ABLATION.value, **options)
  print(f'\n{report.read_text()}\nwritten to {report}')


def entry() -> None:
  """The console script ``prunejax-reproduce`` (and ``python scripts/reproduce.py``)."""
  cli.run(main, __name__)


if __name__ == '__main__':
  entry()
