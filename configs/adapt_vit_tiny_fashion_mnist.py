"""ADaPT on vit_tiny, Fashion-MNIST: the LeNet-5 config's protocol (pretraining recipe, data-aware pruning of
50% of the kernel weights for the `tops` subset, retraining) with attention heads, head dims, MLP hidden
units and the residual stream ranked by mean |W| (prunejax's extension: the authors rank conv filters).

python scripts/train.py --config configs/adapt_vit_tiny_fashion_mnist.py --workdir runs/adapt_vit_tops_p50 \
    --config.adapt.pretrained_workdir=runs/vit_tiny_pretrained
"""

import pathlib
import runpy

lenet5 = runpy.run_path(str(pathlib.Path(__file__).with_name('adapt_lenet5_fashion_mnist.py')))


def get_config():
  config = lenet5['get_config']()  # protocol='prunejax': the authors rank convolution filters only
  config.model = 'vit_tiny'
  return config
