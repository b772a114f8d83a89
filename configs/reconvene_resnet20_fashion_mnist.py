"""Reconvene on ResNet-20, Fashion-MNIST: residual groups (the stages' shared channels) included
(a reconstruction: prunejax/methods/reconvene.py).

python scripts/train.py --config configs/reconvene_resnet20_fashion_mnist.py --workdir runs/reconvene_resnet20
"""

import pathlib
import runpy

here = pathlib.Path(__file__).parent
vgg = runpy.run_path(str(here / 'reconvene_vgg16_fashion_mnist.py'))
resnet20 = runpy.run_path(str(here / 'resnet20_fashion_mnist.py'))


def get_config():
  config = resnet20['get_config']()
  config.method = 'reconvene'
  config.reconvene = vgg['reconvene_block']()
  return config
