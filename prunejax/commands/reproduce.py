"""Reproduces one paper's experiments as a grid of resumable runs and writes runs/<paper>/REPORT.md.

prunejax-reproduce dynhp [--quick] [--ablation] [--root runs/dynhp]
prunejax-reproduce reconvene --only_production   (the full mode's production grid: no training)
prunejax-reproduce reconvene --accuracy_models=lenet5 --ablation=false   (the full mode's CPU-sized part)
prunejax-reproduce adapt --quick --publish   (then copies REPORT.md's tables and plots into docs/papers/adapt.md)
(or python scripts/reproduce.py with the same flags, from a clone)
Re-running resumes: finished runs are read back, an interrupted one continues from its checkpoint.
"""

import pathlib
import shlex
import sys

from absl import flags, logging

from prunejax import cli
from prunejax.reproductions import PAPERS, publish

_QUICK = flags.DEFINE_bool('quick', False, 'Short settings (minutes on 2 CPU cores) instead of the full grid.')
_ABLATION = flags.DEFINE_bool('ablation', None, 'Also run the ablations (default: in full mode only).')
_ROOT = flags.DEFINE_string('root', None, 'Directory of the runs and REPORT.md (default runs/<paper>[_quick]).')
_ONLY_PRODUCTION = flags.DEFINE_bool(
    'only_production', False, 'reconvene only: just the production grid (no training; the CPU part of the full '
    'mode: four models, five scorers, eight sparsities).')
_ACCURACY_MODELS = flags.DEFINE_list(
    'accuracy_models', None, 'reconvene only: train only these of the mode\'s accuracy models (full mode: '
    'lenet5, vgg16, resnet20; lenet5 is the part a CPU does in about an hour).')
_PUBLISH = flags.DEFINE_bool(
    'publish', False, 'After writing REPORT.md, copy its tables and plots (those under 200 kB) into the paper\'s '
    'page docs/papers/<paper>.md, between its results markers (replacing what is there).')


def main(argv):
  if len(argv) != 2 or argv[1] not in PAPERS:
    sys.exit(f'usage: prunejax-reproduce {{{",".join(sorted(PAPERS))}}} [--quick] [--publish]')
  if not flags.FLAGS['verbosity'].present:
    logging.set_verbosity(logging.WARNING)
  paper = argv[1]
  if _ONLY_PRODUCTION.value and paper != 'reconvene':
    sys.exit(f'--only_production applies to reconvene (its production grid), not to {paper}; drop the flag.')
  if _ACCURACY_MODELS.value is not None and paper != 'reconvene':
    sys.exit(f'--accuracy_models applies to reconvene (its accuracy grid), not to {paper}; drop the flag.')
  root = pathlib.Path(_ROOT.value or f'runs/{paper}{"_quick" if _QUICK.value else ""}')
  options = {'only_production': True} if _ONLY_PRODUCTION.value else {}
  if _ACCURACY_MODELS.value is not None:
    options['accuracy_models'] = _ACCURACY_MODELS.value
  page = publish.page_path(paper)
  if _PUBLISH.value:
    publish.check_page(page, paper)  # refused before the runs, not after them
  report = PAPERS[paper](root, _QUICK.value, _ABLATION.value, **options)
  print(f'\n{report.read_text()}\nwritten to {report}')
  if _PUBLISH.value:
    command = 'prunejax-reproduce ' + shlex.join(sys.argv[1:])
    counts = publish.publish(report, page, paper, command, 'quick' if _QUICK.value else 'full')
    print(f'published {counts["tables"]} tables and {counts["plots"]} plots to {page}'
          + (f' ({counts["plots_not_copied"]} plots not copied: too large or missing)'
             if counts['plots_not_copied'] else ''))


def entry() -> None:
  """The console script ``prunejax-reproduce`` (and ``python scripts/reproduce.py``)."""
  cli.run(main, __name__)


if __name__ == '__main__':
  entry()
