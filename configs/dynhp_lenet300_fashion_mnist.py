"""DynHP on LeNet-300-100, Fashion-MNIST: hard-prune hidden units during training to 10x fewer parameters,
spending the freed memory on bigger batches (a reconstruction: prunejax/methods/dynhp.py).

python scripts/train.py --config configs/dynhp_lenet300_fashion_mnist.py --workdir runs/dynhp_lenet300
"""

import pathlib
import runpy

import ml_collections

from prunejax.methods.dynhp_settings import DynHPSettings

base = runpy.run_path(str(pathlib.Path(__file__).with_name('default.py')))


def dynhp_block() -> ml_collections.ConfigDict:
  """config.dynhp at its declared defaults (fields and meanings: DynHPSettings)."""
  return DynHPSettings().config()


def get_config():
  config = base['get_config']()
  config.method = 'dynhp'
  config.dynhp = dynhp_block()
  return config
