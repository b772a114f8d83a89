"""Dense LeNet-5 on Fashion-MNIST.

python scripts/train.py --config configs/lenet5_fashion_mnist.py --workdir runs/lenet5_fashion_mnist
"""

import pathlib
import runpy

base = runpy.run_path(str(pathlib.Path(__file__).with_name('default.py')))


def get_config():
  config = base['get_config']()
  config.model = 'lenet5'
  config.num_epochs = 20
  return config
