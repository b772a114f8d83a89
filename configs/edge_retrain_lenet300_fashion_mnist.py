"""Re-training a 90%-pruned LeNet-300-100 on the device (Chandakkar et al. 2017, reconstructed): deployed
after 20 epochs on the original 80% of Fashion-MNIST's training images (gradual magnitude pruning over
10–60% of training), then re-trained on 1,000 new images rotated by 20° with one strategy.

python scripts/train.py --config configs/edge_retrain_lenet300_fashion_mnist.py --workdir runs/edge_rotate \
    --config.edge_retrain.strategy=rehearsal --config.edge_retrain.deployed_workdir=runs/edge_deployed
Strategies: none, finetune_fixed_mask, rehearsal, regrow_reprune, last_layers, distill, finetune_dense.
"""

import pathlib
import runpy

import ml_collections

base = runpy.run_path(str(pathlib.Path(__file__).with_name('default.py')))


def get_config() -> ml_collections.ConfigDict:
  config = base['get_config']()
  config.method = 'edge_retrain'
  config.edge_retrain = edge_retrain_block()
  return config


def edge_retrain_block() -> ml_collections.ConfigDict:
  return ml_collections.ConfigDict({
      # The deployment (shared by every strategy run that names the same deployed_workdir).
      'sparsity': 0.9,  # of the prunable kernels (the classifier stays dense), magnitude, one threshold
      'prune_window': (0.1, 0.6),  # gradual (cubic) pruning from/to these fractions of training
      'new_fraction': 0.2,  # share of the training images held back as the device's "new" data
      'deployed_workdir': '',  # '' -> <workdir>/deployed
      # The device's new data.
      'shift': 'rotate',  # none | class_skew | rotate | brightness | noise
      'shift_strength': 20.0,  # degrees (rotate), max drop share (class_skew), x255 (brightness, noise)
      'new_examples': 1000,  # training images the device has
      # Re-training.
      'strategy': 'finetune_fixed_mask',
      'steps': 300,
      'batch_size': 32,
      'learning_rate': 0.01,  # constant; config.optimizer's momentum and weight decay
      'rehearsal_size': 250,  # rehearsal: original examples kept on the device (share 250/1250 = 20%)
      'regrow_fraction': 0.5,  # regrow_reprune: dense share of the steps before re-pruning
      'last_layers': 1,  # last_layers: weight layers that train (1: the classifier)
      'distill_weight': 0.5,
      'distill_temperature': 2.0,
  })
