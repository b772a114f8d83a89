"""DynHP on LeNet-300-100, Fashion-MNIST: hard-prune hidden units during training to 10x fewer parameters,
spending the freed memory on bigger batches (a reconstruction: prunejax/methods/dynhp.py).

python scripts/train.py --config configs/dynhp_lenet300_fashion_mnist.py --workdir runs/dynhp_lenet300
"""

import pathlib
import runpy

import ml_collections

base = runpy.run_path(str(pathlib.Path(__file__).with_name('default.py')))


def dynhp_block() -> ml_collections.ConfigDict:
  """config.dynhp: every unknown of the paper is a field (steps are steps of config.batch_size)."""
  cfg = ml_collections.ConfigDict()
  cfg.target_compression = 10.0  # dense params / final params
  cfg.rate = 0.2  # share of the remaining prunable units removed at each prune
  cfg.begin_step = 421  # first prune after about one epoch
  cfg.prune_every = 100
  cfg.score = 'contribution'  # ‖incoming‖·‖outgoing‖; or l1, l2, mean_abs, bn_scale, taylor, mean_activation, random
  cfg.scope = 'global'  # global (scores / their layer's mean) | layerwise (rank within the layer)
  cfg.cost_aware = True  # global: rank by importance per parameter a unit takes with it
  cfg.min_units = 4  # units every layer keeps
  cfg.score_examples = 1024  # for the data scores (taylor, mean_activation)
  cfg.batch_sizing = True  # after each prune, the largest batch whose step fits the budget
  cfg.memory_budget_bytes = 0  # 0: the dense step's compiled bytes at the initial batch
  cfg.max_batch_size = 1024
  cfg.lr_scaling = 'sqrt'  # none | linear | sqrt, relative to config.batch_size
  return cfg


def get_config():
  config = base['get_config']()
  config.method = 'dynhp'
  config.dynhp = dynhp_block()
  return config
