"""``small_dense``: the network a pruning run ended with, built at that shape and trained from scratch.

The baseline that asks whether pruning found anything a smaller architecture would not: the config's
model is shrunk at initialisation to the channel counts of another run's final checkpoint
(``config.small_dense.widths_from``, a workdir) and its kernels rescaled to their initialisers'
variance at the new fan-in (``structure.rescale_fan_in``), then trained dense for ``num_epochs``.
"""

import pathlib

import ml_collections
import numpy as np

from prunejax import structure
from prunejax.errors import PrunejaxError
from prunejax.methods.registry import check_no_pruning, register_method
from prunejax.methods.small_dense_settings import SmallDenseSettings
from prunejax.train import Run, finished_checkpoint, write_summary


def check(config: ml_collections.ConfigDict) -> None:
  check_no_pruning(config)
  source = SmallDenseSettings.from_config(config.get('small_dense', {})).widths_from
  if not source or not (pathlib.Path(source) / 'checkpoints').is_dir():
    raise PrunejaxError(f'config.small_dense.widths_from={source!r} must be the --workdir of a finished '
                        'run that shrank this model (its checkpoints give the widths).')


def final_widths(workdir: str) -> dict[str, int]:
  """Channels kept per group at the end of the run in ``workdir``."""
  meta = finished_checkpoint(workdir).meta
  return {name: len(kept) for name, kept in meta['keep'].items()}


@register_method('small_dense', check=check)
def small_dense(run: Run) -> dict:
  widths = final_widths(run.config.small_dense.widths_from)
  run.once('build_small', lambda: _build(run, widths))
  run.train('train', epochs=run.config.num_epochs)
  return write_summary(run, 'small_dense', {'widths_from': run.config.small_dense.widths_from,
                                            'units_final': widths})


def _build(run: Run, widths: dict[str, int]) -> None:
  wide = run.state.params
  run.shrink({name: np.arange(count) for name, count in widths.items()})
  run.state = run.state.replace(params=structure.rescale_fan_in(wide, run.state.params))
  run.state = run.state.replace(opt_state=run.optimizer.init(run.state.params))
