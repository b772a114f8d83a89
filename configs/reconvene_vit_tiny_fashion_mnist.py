"""Reconvene on vit_tiny, Fashion-MNIST: a SynFlow mask over the attention, MLP and patch kernels, turned
into fewer heads, narrower head dims and MLPs and a narrower residual stream, then trained with the masks
fixed (a reconstruction: prunejax/methods/reconvene.py). ``--config.reconvene.train=False`` only produces
and measures it.

python scripts/train.py --config configs/reconvene_vit_tiny_fashion_mnist.py --workdir runs/reconvene_vit_tiny
"""

import pathlib
import runpy

here = pathlib.Path(__file__).parent
vgg = runpy.run_path(str(here / 'reconvene_vgg16_fashion_mnist.py'))
dynhp_vit = runpy.run_path(str(here / 'dynhp_vit_tiny_fashion_mnist.py'))


def get_config():
  config = dynhp_vit['get_config']()  # vit_tiny's recipe: AdamW 1e-3, one warm-up epoch
  del config.dynhp
  config.method = 'reconvene'
  config.reconvene = vgg['reconvene_block']()
  config.reconvene.sparsity = 0.875  # k = 3: a 139k-parameter model has little to spare
  config.reconvene.min_channels = 2
  return config
