"""Dense ResNet-20 on Fashion-MNIST, 8 epochs, cosine; about 8 min an epoch on 2 CPU cores.

XLA's CPU weight-gradient convolution runs at about 6 GFLOP/s on the 16-channel 28x28 stage, so a CPU
step takes about 1 s; on a GPU this config takes minutes.

python scripts/train.py --config configs/resnet20_fashion_mnist.py --workdir runs/resnet20_fashion_mnist
"""

import pathlib
import runpy

base = runpy.run_path(str(pathlib.Path(__file__).with_name('default.py')))


def get_config():
  config = base['get_config']()
  config.model = 'resnet20'
  config.augment = False  # 8 epochs are too few for crop + flip to pay off
  config.num_epochs = 8
  config.optimizer.learning_rate = 0.1
  config.optimizer.weight_decay = 5e-4
  config.checkpoint_every_steps = 200
  return config
