"""Reconvene on VGG-16, Fashion-MNIST: a SynFlow mask at 98.4% sparsity (k = 6 of the 1−2⁻ᵏ grid) turned
into a narrower network in seconds, then trained with the masks fixed (a reconstruction:
prunejax/methods/reconvene.py). ``--config.reconvene.train=False`` only produces and measures it.

python scripts/train.py --config configs/reconvene_vgg16_fashion_mnist.py --workdir runs/reconvene_vgg16
"""

import pathlib
import runpy

import ml_collections

base = runpy.run_path(str(pathlib.Path(__file__).with_name('default.py')))


def reconvene_block() -> ml_collections.ConfigDict:
  cfg = ml_collections.ConfigDict()
  cfg.upai = 'synflow'  # the unstructured PaI scorer: random | magnitude | snip | grasp | synflow
  cfg.sparsity = 1 - 2 ** -6  # 0.984375
  # Low sensitivity = insensitive to structured pruning. density: the group's mask density over the whole
  # mask's (1 - sparsity); concentration: 1 - share of its kept weights in its top ceil(density*C) channels.
  cfg.sensitivity = 'density'  # density | concentration
  cfg.threshold = 3.0  # groups whose sensitivity is below this are made narrow ...
  cfg.count = 0  # ... or, when > 0, the `count` least sensitive groups
  # A narrowed group keeps at least this many channels (fewer only if it has fewer): at 2, LeNet-5's fc1
  # becomes 2-3 units at s >= 0.97 and the network cannot learn (README, Reconvene: measured) ...
  cfg.min_channels = 16
  cfg.multiple = 1  # ... and a multiple of this (8 or 16 for vector units)
  cfg.reinit = 'changed'  # changed (redraw reshaped leaves) | rescale (fan-in) | none
  cfg.train = True  # False: produce, measure and checkpoint the model without training
  cfg.latency_rounds = 5  # paired latency against the original network: alternating rounds ...
  cfg.latency_repeats = 20  # ... of this many timed calls each (medians)
  return cfg


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
