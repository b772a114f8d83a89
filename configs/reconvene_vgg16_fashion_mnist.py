"""Reconvene on VGG-16, Fashion-MNIST: a SynFlow mask at 98.4% sparsity (k = 6 of the 1−2⁻ᵏ grid) turned
into a narrower network in seconds, then trained with the masks fixed (a reconstruction:
prunejax/methods/reconvene.py). ``--config.reconvene.train=False`` only produces and measures it.

python scripts/train.py --config configs/reconvene_vgg16_fashion_mnist.py --workdir runs/reconvene_vgg16
"""

import pathlib
import runpy

import ml_collections

from prunejax.methods.reconvene_settings import ReconveneSettings

base = runpy.run_path(str(pathlib.Path(__file__).with_name('default.py')))


def reconvene_block() -> ml_collections.ConfigDict:
  """config.reconvene at its declared defaults (fields and meanings: ReconveneSettings)."""
  return ReconveneSettings().config()


def get_config():
  config = base['get_config']()
  config.method = 'reconvene'
  config.model = 'vgg16'
  config.reconvene = reconvene_block()
  # VGG-16 on CIFAR-10 in the authors' harness: SGD 0.1, momentum 0.9, wd 1e-4, batch 128, 160 epochs,
  # x0.1 at 80 and 120 — the GPU protocol; on 2 CPU cores an epoch of VGG-16 takes many minutes.
  config.num_epochs = 160
  config.optimizer.learning_rate = 0.1
  config.optimizer.nesterov = False
  config.optimizer.schedule = 'step'
  config.optimizer.decay_epochs = (80, 120)
  config.checkpoint_every_steps = 200
  return config
