"""LeNet-300-100 on Fashion-MNIST pruned to 90% by gradual magnitude pruning (Zhu & Gupta's cubic
schedule from epoch 2 to epoch 12 of 20, masks refreshed every 100 steps, one global threshold).

python scripts/train.py --config configs/lenet300_gmp90_fashion_mnist.py --workdir runs/lenet300_gmp90
"""

import pathlib
import runpy

base = runpy.run_path(str(pathlib.Path(__file__).with_name('default.py')))
STEPS_PER_EPOCH = 421  # 54,000 training examples (10% held out for validation) / batch 128


def get_config():
  config = base['get_config']()
  config.pruning.method = 'magnitude'
  config.pruning.sparsity = 0.9
  config.pruning.schedule = 'polynomial'
  config.pruning.begin_step = 2 * STEPS_PER_EPOCH
  config.pruning.end_step = 12 * STEPS_PER_EPOCH
  config.pruning.update_every = 100
  return config
