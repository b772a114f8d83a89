"""DynHP on vit_tiny, Fashion-MNIST: attention heads, head dims, MLP hidden units and the residual stream
hard-pruned during training to 4x fewer parameters, with dynamic batch sizing (prunejax/methods/dynhp.py).

python scripts/train.py --config configs/dynhp_vit_tiny_fashion_mnist.py --workdir runs/dynhp_vit_tiny
"""

import pathlib
import runpy

here = pathlib.Path(__file__).parent
lenet300 = runpy.run_path(str(here / 'dynhp_lenet300_fashion_mnist.py'))


def get_config():
  config = lenet300['get_config']()
  config.model = 'vit_tiny'
  config.num_epochs = 10
  config.optimizer.name = 'adamw'
  config.optimizer.learning_rate = 1e-3
  config.optimizer.weight_decay = 0.05
  config.optimizer.warmup_epochs = 1.0
  config.dynhp.target_compression = 4.0
  config.dynhp.begin_step = 421  # after one epoch at batch 128
  config.dynhp.prune_every = 100
  config.dynhp.min_units = 2
  config.dynhp.max_batch_size = 512
  return config
