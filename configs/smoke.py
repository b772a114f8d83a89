"""Seconds-long smoke run: LeNet-300-100 on scikit-learn's digits (offline, no files needed).

python scripts/train.py --config configs/smoke.py --workdir runs/smoke
"""

import pathlib
import runpy

base = runpy.run_path(str(pathlib.Path(__file__).with_name('default.py')))


def get_config():
  config = base['get_config']()
  config.dataset = 'digits'
  config.num_epochs = 3
  config.batch_size = 32
  config.eval_batch_size = 256
  config.optimizer.learning_rate = 0.05
  config.log_every_steps = 10
  config.checkpoint_every_steps = 20
  return config
