"""Start-up validation of a training config: every bad value fails here, with one line, before any work."""

import math

import ml_collections

from prunejax.data.sources import check_dataset_name
from prunejax.errors import PrunejaxError
from prunejax.models import check_model_name
from prunejax.train.optimizers import OPTIMIZERS, SCHEDULES
from prunejax.train.pruning import check_pruning_config

REQUIRED = ('model', 'dataset', 'num_epochs', 'batch_size', 'seed', 'optimizer', 'pruning')


def check_config(config: ml_collections.ConfigDict) -> None:
  """Raises ``PrunejaxError`` naming the first invalid field and how to fix it."""
  missing = [k for k in REQUIRED if k not in config]
  if missing:
    raise PrunejaxError(f'config lacks {missing}; start from configs/default.py.')
  check_model_name(config.model)
  check_dataset_name(config.dataset)
  _positive_int(config, 'num_epochs')
  _positive_int(config, 'batch_size')
  _positive_int(config, 'eval_batch_size')
  _positive_int(config, 'checkpoint_every_steps')
  _positive_int(config, 'log_every_steps')
  if not isinstance(config.seed, int):
    raise PrunejaxError(f'config.seed={config.seed!r} must be an integer.')
  opt = config.optimizer
  if opt.name not in OPTIMIZERS:
    raise PrunejaxError(f'config.optimizer.name={opt.name!r} is unknown; choose one of {OPTIMIZERS}.')
  if opt.schedule not in SCHEDULES:
    raise PrunejaxError(f'config.optimizer.schedule={opt.schedule!r} is unknown; choose one of {SCHEDULES}.')
  lr = opt.learning_rate
  if not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
    raise PrunejaxError(f'config.optimizer.learning_rate={lr!r} must be a finite number > 0 (e.g. 0.1 '
                        'for SGD, 1e-3 for Adam).')
  if not 0 <= opt.momentum < 1:
    raise PrunejaxError(f'config.optimizer.momentum={opt.momentum} must be in [0, 1).')
  if opt.weight_decay < 0:
    raise PrunejaxError(f'config.optimizer.weight_decay={opt.weight_decay} must be >= 0.')
  check_pruning_config(config.pruning)
  if not 0 <= config.validation_fraction < 1:
    raise PrunejaxError(f'config.validation_fraction={config.validation_fraction} must be in [0, 1).')


def _positive_int(config, name):
  value = config[name]
  if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
    raise PrunejaxError(f'config.{name}={value!r} must be a positive integer.')
