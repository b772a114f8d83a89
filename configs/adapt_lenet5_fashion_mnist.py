"""ADaPT on LeNet-5, Fashion-MNIST, in prunejax's extension (`protocol='prunejax'`: Dense units ranked too):
pretrained 20 epochs on all classes (configs/lenet5_fashion_mnist.py's recipe), then data-aware pruning of
50% of the kernel weights for the `tops` subset and retraining, 30 epochs in all (5 of fine-tuning on the
subset first), with the authors' learning-rate recipe.

python scripts/train.py --config configs/adapt_lenet5_fashion_mnist.py --workdir runs/adapt_tops_p50 \
    --config.adapt.pretrained_workdir=runs/lenet5_pretrained
Modes: data_aware | data_agnostic | dapr (search for p); subsets: tops, footwear, random<k>, or 1,3,8.
"""

import pathlib
import runpy

import ml_collections

from prunejax.methods.adapt_settings import AdaptSettings

lenet5 = runpy.run_path(str(pathlib.Path(__file__).with_name('lenet5_fashion_mnist.py')))


def get_config() -> ml_collections.ConfigDict:
  config = lenet5['get_config']()
  config.method = 'adapt'
  config.validation_fraction = 0.2  # the authors' 80/20 per-class split (it picks the best epoch)
  config.optimizer.nesterov = False  # SGD momentum 0.9, weight decay 1e-4, batch 128 (the authors')
  config.adapt = adapt_block()
  # LeNet-5's Dense layers hold most of its weights: the authors' rule (filters only) reaches a few percent,
  # so this network runs prunejax's extension (configs/adapt_vgg11_fashion_mnist.py runs theirs).
  config.adapt.protocol = 'prunejax'
  return config


def adapt_block() -> ml_collections.ConfigDict:
  """config.adapt at its declared defaults (fields and meanings: AdaptSettings)."""
  return AdaptSettings().config()
