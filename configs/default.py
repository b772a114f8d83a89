"""The main job: dense LeNet-300-100 on Fashion-MNIST.

python scripts/train.py --config configs/default.py --workdir runs/default
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.model = 'lenet_300_100'
  config.model_kwargs = ml_collections.ConfigDict()
  config.dataset = 'fashion_mnist'
  config.data_dir = ''  # '' -> $PRUNEJAX_DATA_DIR, $TFDS_DATA_DIR or ~/tensorflow_datasets
  config.manual_dir = ''  # '' -> $PRUNEJAX_MANUAL_DIR or /usr/share/datasets/fashion-mnist
  config.download = True  # let TFDS download when the data is nowhere offline
  config.validation_fraction = 0.1
  config.classes = ()  # keep only these labels (all when empty)
  config.remap_labels = False  # with classes: relabel them 0..k-1 and shrink the classifier
  config.augment = False  # random crop + flip (CIFAR recipe)

  config.num_epochs = 20
  config.batch_size = 128
  config.eval_batch_size = 1000
  config.seed = 0
  config.num_devices = 0  # 0 -> all visible devices

  config.optimizer = ml_collections.ConfigDict()
  config.optimizer.name = 'sgd'  # sgd | adam | adamw
  config.optimizer.learning_rate = 0.05
  config.optimizer.momentum = 0.9
  config.optimizer.nesterov = True
  config.optimizer.weight_decay = 1e-4
  config.optimizer.schedule = 'cosine'  # constant | cosine | step
  config.optimizer.warmup_epochs = 0.0
  config.optimizer.decay_epochs = ()  # for schedule='step'
  config.optimizer.decay_factor = 0.1

  config.log_every_steps = 100
  config.checkpoint_every_steps = 1000
  config.progress_bar = True
  return config
