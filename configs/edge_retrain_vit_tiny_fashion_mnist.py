"""Re-training a 90%-pruned vit_tiny on the device: deployed after training on the original images with
vit_tiny's recipe (AdamW 1e-3, one warm-up epoch; gradual magnitude pruning of the attention, MLP and
patch kernels), then re-trained on the new images with one strategy (configs/edge_retrain_lenet300_...).

python scripts/train.py --config configs/edge_retrain_vit_tiny_fashion_mnist.py --workdir runs/edge_vit_rotate \
    --config.edge_retrain.strategy=rehearsal --config.edge_retrain.deployed_workdir=runs/edge_vit_deployed
"""

import pathlib
import runpy

here = pathlib.Path(__file__).parent
lenet300 = runpy.run_path(str(here / 'edge_retrain_lenet300_fashion_mnist.py'))
dynhp_vit = runpy.run_path(str(here / 'dynhp_vit_tiny_fashion_mnist.py'))


def get_config():
  config = lenet300['get_config']()
  config.model = 'vit_tiny'
  config.optimizer = dynhp_vit['get_config']().optimizer
  return config
