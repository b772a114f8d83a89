"""Dense resnet20 on CIFAR-10 (TFDS download, or a prepared copy in the data dir), 160 epochs, step decay.

python scripts/train.py --config configs/resnet20_cifar10.py --workdir runs/resnet20_cifar10
"""

import pathlib
import runpy

base = runpy.run_path(str(pathlib.Path(__file__).with_name('default.py')))


def get_config():
  config = base['get_config']()
  config.model = 'resnet20'
  config.dataset = 'cifar10'
  config.augment = True
  config.num_epochs = 160
  config.optimizer.learning_rate = 0.1
  config.optimizer.weight_decay = 1e-4
  config.optimizer.schedule = 'step'
  config.optimizer.decay_epochs = (80, 120)
  config.checkpoint_every_steps = 1000
  return config
