"""Edge profile of a config's model: parameters and bytes, FLOPs, compiled memory for inference and for
one training step, and median latency at each batch size under config.edge.threads CPU threads.

prunejax-profile --config configs/default.py [--out runs/profile/default.json]
(or python scripts/profile.py with the same flags, from a clone)
"""

import functools
import json
import pathlib

from absl import flags, logging
from ml_collections import config_flags

from prunejax import cli, edge

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Path to a config file in configs/.')
_OUT = flags.DEFINE_string('out', '', 'JSON output (default runs/profile/<config>.json).')
flags.mark_flags_as_required(['config'])


def profile(config):
  from prunejax.data.sources import DATASET_SHAPES, check_dataset_name  # pylint: disable=g-import-not-at-top
  from prunejax.models import create_model  # pylint: disable=g-import-not-at-top
  from prunejax.train import (apply_model, init_train_state, make_optimizer, split_model,  # pylint: disable=g-import-not-at-top
                              update_step_bytes)

  check_dataset_name(config.dataset)
  shape, classes = DATASET_SHAPES[config.dataset]
  classes = len(config.classes) if config.classes and config.remap_labels else classes
  defs, params, model_state = split_model(create_model(config.model, shape, classes, config.seed,
                                                       **config.model_kwargs.to_dict()))
  apply = functools.partial(apply_model, defs.eval)
  figures = edge.profile_model(apply, params, model_state, shape, tuple(config.edge.batch_sizes), repeats=20)
  tx = make_optimizer(config.optimizer)  # the run's: an optimizer's state is part of the step's bytes
  state = init_train_state(params, model_state, tx, 0)
  figures['train_step_bytes'] = update_step_bytes(defs, tx, state, config.batch_size, shape)
  return {'model': config.model, 'dataset': config.dataset, 'batch_size': config.batch_size, **figures}


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  config = _CONFIG.value
  edge.limit_cpu_threads(config.edge.threads)
  figures = profile(config)
  width = max(len(k) for k in figures)
  for key, value in figures.items():
    print(f'{key:<{width}}  {value:,.3f}' if isinstance(value, float) else f'{key:<{width}}  {value}')
  stem = pathlib.Path(config_flags.get_config_filename(flags.FLAGS['config'])).stem
  out = pathlib.Path(_OUT.value or f'runs/profile/{stem}.json')
  out.parent.mkdir(parents=True, exist_ok=True)
  out.write_text(json.dumps(figures, indent=2) + '\n')
  print(f'written to {out}')


def entry() -> None:
  """The console script ``prunejax-profile`` (and ``python scripts/profile.py``)."""
  cli.run(main, __name__)


if __name__ == '__main__':
  entry()
