"""``config.dynhp``: every unknown of the DynHP paper is a field (steps are steps of config.batch_size)."""

import dataclasses
from typing import ClassVar

from prunejax import structure
from prunejax.settings import Settings, setting
from prunejax.train import LR_SCALING


@dataclasses.dataclass(frozen=True)
class DynHPSettings(Settings):
  block: ClassVar[str] = 'config.dynhp'
  example: ClassVar[str] = 'configs/dynhp_lenet300_fashion_mnist.py'

  target_compression: float = setting(10.0, 'dense params / final params', low=1, low_open=True)
  rate: float = setting(0.2, 'share of the remaining prunable units removed at each prune',
                        low=0, low_open=True, high=1, high_open=True)
  begin_step: int = setting(421, 'first prune (steps of config.batch_size)', low=0)
  prune_every: int = setting(100, 'steps of config.batch_size between prunes', low=1)
  score: str = setting('contribution', 'unit importance: a structured criterion', choices=structure.ALL_CRITERIA)
  scope: str = setting('global', "global (scores / their layer's mean) | layerwise (rank within the layer)",
                       choices=('global', 'layerwise'))
  cost_aware: bool = setting(True, 'global: rank by importance per unit of cost_unit a unit takes with it')
  cost_unit: str = setting('params', "params (a unit's weights) | step_bytes (the training step's compiled bytes "
                                     'it frees, activations and their gradients included: XLA, one compile per '
                                     'layer per prune)', choices=('params', 'step_bytes'))
  min_units: int = setting(4, 'units every layer keeps', low=1)
  score_examples: int = setting(1024, 'examples for the data scores (taylor, mean_activation)', low=1)
  batch_sizing: bool = setting(True, "after each prune, the largest batch whose step fits the budget")
  memory_budget_bytes: int = setting(0, "0: the dense step's compiled bytes at the initial batch", low=0)
  max_batch_size: int = setting(1024, 'the largest batch batch sizing may choose (>= config.batch_size)',
                                low=1)
  lr_scaling: str = setting('sqrt', 'learning rate scaled with the batch, relative to config.batch_size',
                            choices=LR_SCALING)
