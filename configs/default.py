"""The main job: dense LeNet-300-100 on Fashion-MNIST. Every field, its default, range and meaning is
declared once in its settings class (printed by `prunejax-train --help`; docs/configs.md).

python scripts/train.py --config configs/default.py --workdir runs/default
"""

import ml_collections

from prunejax.edge.settings import EdgeSettings
from prunejax.train.optimizer_settings import OptimizerSettings
from prunejax.train.pruning_settings import PruningSettings
from prunejax.train.run_settings import RunSettings


def get_config() -> ml_collections.ConfigDict:
  config = RunSettings().config()
  config.optimizer = OptimizerSettings().config()
  config.pruning = PruningSettings().config()  # method='none' trains dense
  config.edge = EdgeSettings().config()
  return config
