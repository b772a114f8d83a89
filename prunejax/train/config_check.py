"""Start-up validation of a training config: every bad value fails here, with one line, before any work.
Each block is checked against its settings dataclass (types, ranges, unknown and missing keys); what
spans blocks, or needs a registry, is checked here."""

import ml_collections

from prunejax.data.sources import check_dataset_name
from prunejax.edge.settings import EdgeSettings
from prunejax.errors import PrunejaxError
from prunejax.models import check_model_name
from prunejax.train.optimizer_settings import OptimizerSettings
from prunejax.train.pruning_settings import PruningSettings
from prunejax.train.run_settings import RunSettings

BLOCKS = {'optimizer': OptimizerSettings, 'pruning': PruningSettings, 'edge': EdgeSettings}


def check_config(config: ml_collections.ConfigDict) -> None:
  """Raises ``PrunejaxError`` naming the first invalid field and how to fix it."""
  missing = [k for k in ('optimizer', 'pruning') if k not in config]
  if missing:
    raise PrunejaxError(f'config lacks {missing}; start from configs/default.py.')
  method_blocks = [k for k, v in config.items() if isinstance(v, ml_collections.ConfigDict)
                   and k not in BLOCKS and k != 'model_kwargs']
  run = RunSettings.from_config(config, extra=list(BLOCKS) + method_blocks)
  check_model_name(run.model)
  check_dataset_name(run.dataset)
  optimizer = OptimizerSettings.from_config(config.optimizer)
  PruningSettings.from_config(config.pruning)
  if 'edge' in config:
    EdgeSettings.from_config(config.edge)
  if optimizer.warmup_epochs >= run.num_epochs:
    raise optimizer.error('warmup_epochs', f'leaves no training after warm-up (num_epochs={run.num_epochs}); '
                          'lower it.')
