"""LeNet-300-100 on Fashion-MNIST pruned to 90% at initialisation by GraSP (T = 200, one global threshold), then
trained with the mask fixed, 20 epochs.

python scripts/train.py --config configs/lenet300_grasp90_fashion_mnist.py --workdir runs/lenet300_grasp90
"""

import pathlib
import runpy

base = runpy.run_path(str(pathlib.Path(__file__).with_name('default.py')))


def get_config():
  config = base['get_config']()
  config.pruning.method = 'grasp'
  config.pruning.sparsity = 0.9
  return config
