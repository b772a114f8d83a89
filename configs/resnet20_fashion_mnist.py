"""Dense ResNet-20 on Fashion-MNIST (crop + flip augmentation); about 2 min an epoch on 2 CPU cores.

python scripts/train.py --config configs/resnet20_fashion_mnist.py --workdir runs/resnet20_fashion_mnist
"""

import pathlib
import runpy

base = runpy.run_path(str(pathlib.Path(__file__).with_name('default.py')))


def get_config():
  config = base['get_config']()
  config.model = 'resnet20'
  config.augment = True
  config.num_epochs = 30
  config.optimizer.learning_rate = 0.1
  config.optimizer.weight_decay = 5e-4
  config.checkpoint_every_steps = 200
  return config
