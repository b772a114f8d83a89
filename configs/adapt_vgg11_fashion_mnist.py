"""ADaPT in the authors' protocol (`protocol='authors'`: their code's rules) on a narrow VGG-11, Fashion-MNIST:
a network their rule suits (convolutions hold the weights; global pooling before one small classifier).
Pretrained on all classes, then data-aware pruning of 50% of the parameters (their estimate) for the `tops`
subset and retraining, 30 epochs in all.

python scripts/train.py --config configs/adapt_vgg11_fashion_mnist.py --workdir runs/adapt_vgg11_tops_p50 \
    --config.adapt.pretrained_workdir=runs/vgg11_pretrained
"""

import pathlib
import runpy

lenet5 = runpy.run_path(str(pathlib.Path(__file__).with_name('adapt_lenet5_fashion_mnist.py')))


def get_config():
  config = lenet5['get_config']()
  config.model, config.model_kwargs.width = 'vgg11', 0.125
  config.adapt.protocol = 'authors'
  config.optimizer.decay_all = True  # their torch.optim.SGD decays every parameter
  return config
