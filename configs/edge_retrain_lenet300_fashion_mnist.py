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

from prunejax.methods.edge_retrain_settings import EdgeRetrainSettings

base = runpy.run_path(str(pathlib.Path(__file__).with_name('default.py')))


def get_config() -> ml_collections.ConfigDict:
  config = base['get_config']()
  config.method = 'edge_retrain'
  config.edge_retrain = edge_retrain_block()
  return config


def edge_retrain_block() -> ml_collections.ConfigDict:
  """config.edge_retrain at its declared defaults (fields and meanings: EdgeRetrainSettings)."""
  return EdgeRetrainSettings().config()
