"""Dense training on CIFAR-10 (TFDS download, or a prepared copy in the data dir): the open_lth-style
recipe — SGD lr 0.1, momentum 0.9, wd 1e-4, batch 128, 160 epochs, x0.1 at 80 and 120, crop + flip.
The model is a field: --config.model=resnet20 | resnet56 | vgg16 | mobilenetv2 | ...

python scripts/train.py --config configs/cifar10.py --config.model=vgg16 --workdir runs/vgg16_cifar10
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
  config.optimizer.nesterov = False
  config.optimizer.weight_decay = 1e-4
  config.optimizer.schedule = 'step'
  config.optimizer.decay_epochs = (80, 120)
  return config
