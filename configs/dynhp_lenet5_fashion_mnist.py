"""DynHP on LeNet-5, Fashion-MNIST: filters and hidden units hard-pruned during training to 10x fewer
parameters, with dynamic batch sizing (a reconstruction: prunejax/methods/dynhp.py).

python scripts/train.py --config configs/dynhp_lenet5_fashion_mnist.py --workdir runs/dynhp_lenet5
"""

import pathlib
import runpy

here = pathlib.Path(__file__).parent
lenet300 = runpy.run_path(str(here / 'dynhp_lenet300_fashion_mnist.py'))


def get_config():
  config = lenet300['get_config']()
  config.model = 'lenet5'
  config.dynhp.min_units = 2
  return config
