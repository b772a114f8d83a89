"""Which structured criterion keeps accuracy? Trains a config's model (or resumes its workdir), then for
each criterion and ratio removes that fraction of every prunable channel group, shrinks the network and
evaluates it on the test split without retraining.

python scripts/compare_criteria.py --config configs/default.py --workdir runs/default \
    [--criteria l1,l2,mean_activation,taylor,random] [--ratios 0.3,0.5,0.7] [--scope layerwise] [--oracle]
Prints a table and writes DIR/criteria.json. With --oracle, also how well each criterion ranks channels
by the loss increase their single removal actually causes.
"""

import json
import pathlib
import sys

from absl import flags, logging
from ml_collections import config_flags

from prunejax import cli, methods, structure
from prunejax.errors import PrunejaxError
from prunejax.report import summary_table

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Path to a config file in configs/.')
_WORKDIR = flags.DEFINE_string('workdir', None, 'Run directory (trained here first if not finished).')
_CRITERIA = flags.DEFINE_list('criteria', ['l1', 'l2', 'mean_activation', 'taylor', 'random'],
                              f'Criteria among {structure.ALL_CRITERIA}.')
_RATIOS = flags.DEFINE_list('ratios', ['0.3', '0.5', '0.7'], 'Fractions of each group removed.')
_SCOPE = flags.DEFINE_enum('scope', 'layerwise', ['layerwise', 'global'], 'Ranking within or across groups.')
_ORACLE = flags.DEFINE_bool('oracle', False, 'Also rank-correlate each criterion with the leave-one-out '
                            'loss increase of every channel (one evaluation per channel).')
_EXAMPLES = flags.DEFINE_integer('score_examples', 1024, 'Training examples the data criteria see.')
flags.mark_flags_as_required(['config', 'workdir'])


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  unknown = sorted(set(_CRITERIA.value) - set(structure.ALL_CRITERIA))
  if unknown:
    sys.exit(f'error: unknown criteria {unknown}; choose among {structure.ALL_CRITERIA}.')
  try:
    run = methods.load_trained(_CONFIG.value, _WORKDIR.value)
    rows = methods.criteria_sweep(run, _CRITERIA.value, [float(r) for r in _RATIOS.value], _SCOPE.value,
                                  _EXAMPLES.value)
    oracle = methods.oracle_agreement(run, _CRITERIA.value, _EXAMPLES.value) if _ORACLE.value else []
  except PrunejaxError as e:
    sys.exit(f'error: {e}')
  if oracle:
    print('Spearman correlation with the leave-one-out loss increase, per group:')
    print(summary_table(oracle, [('group', 'group', '{}'), ('channels', 'channels', '{}')] +
                        [(c, c, '{:.3f}') for c in _CRITERIA.value]))
  print(summary_table(rows, [('criterion', 'criterion', '{}'), ('ratio', 'ratio', '{:.2f}'),
                             ('test_accuracy', 'test acc', '{:.4f}'), ('flops_ratio', 'FLOPs x', '{:.2f}'),
                             ('score_seconds', 'score s', '{:.2f}')]))
  out = pathlib.Path(_WORKDIR.value) / 'criteria.json'
  out.write_text(json.dumps({'pruned': rows, 'oracle': oracle}, indent=2) + '\n')
  print(f'written to {out}')


if __name__ == '__main__':
  cli.run(main)
