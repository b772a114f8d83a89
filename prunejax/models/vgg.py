"""CIFAR-style VGG (3x3 conv-BN-ReLU stacks, global average pool, one linear classifier)."""

import jax
from flax import nnx

from prunejax.models.layers import ConvBN, Linear
from prunejax.models.registry import register

POOL = 'M'
LAYOUTS = {
    11: (64, POOL, 128, POOL, 256, 256, POOL, 512, 512, POOL, 512, 512, POOL),
    16: (64, 64, POOL, 128, 128, POOL, 256, 256, 256, POOL, 512, 512, 512, POOL, 512, 512, 512, POOL),
}


class VGG(nnx.Module):
  """VGG-``depth``; a max-pool is skipped once the feature map is 1 pixel wide (small inputs)."""

  def __init__(self, input_shape, num_classes: int, depth: int = 16, width: float = 1.0, *,
               rngs: nnx.Rngs):
    if depth not in LAYOUTS:
      raise TypeError(f'depth must be one of {sorted(LAYOUTS)}, got {depth}')
    height, _, channels = input_shape
    layers, self.pool_after = [], []
    for item in LAYOUTS[depth]:
      if item == POOL:
        if height >= 2:
          self.pool_after.append(len(layers) - 1)
          height //= 2
      else:
        out = max(1, int(round(item * width)))
        layers.append(ConvBN(channels, out, rngs=rngs))
        channels = out
    self.pool_after = tuple(self.pool_after)
    self.features = nnx.List(layers)
    self.classifier = Linear(channels, num_classes, rngs=rngs)

  def __call__(self, x: jax.Array) -> jax.Array:
    for i, layer in enumerate(self.features):
      x = nnx.relu(layer(x))
      if i in self.pool_after:
        x = nnx.max_pool(x, (2, 2), (2, 2))
    return self.classifier(x.mean(axis=(1, 2)))


@register('vgg11')
def vgg11(input_shape, num_classes, *, rngs, width=1.0):
  return VGG(input_shape, num_classes, 11, width, rngs=rngs)


@register('vgg16')
def vgg16(input_shape, num_classes, *, rngs, width=1.0):
  return VGG(input_shape, num_classes, 16, width, rngs=rngs)
