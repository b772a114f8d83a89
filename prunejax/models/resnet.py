"""CIFAR-style ResNets (He et al. 2016, section 4.2): 3 stages of BasicBlocks, 16/32/64 channels."""

import jax
from flax import nnx

from prunejax.models.layers import ConvBN, Linear
from prunejax.models.registry import register


class BasicBlock(nnx.Module):
  """conv3x3-BN-ReLU-conv3x3-BN plus a shortcut: identity, or 1x1 conv-BN when the shape changes."""

  def __init__(self, in_features: int, out_features: int, strides: int, *, rngs: nnx.Rngs):
    self.conv1 = ConvBN(in_features, out_features, 3, strides, rngs=rngs)
    self.conv2 = ConvBN(out_features, out_features, 3, 1, rngs=rngs)
    needs_projection = strides != 1 or in_features != out_features
    self.shortcut = ConvBN(in_features, out_features, 1, strides, rngs=rngs) if needs_projection else None

  def __call__(self, x: jax.Array) -> jax.Array:
    y = self.conv2(nnx.relu(self.conv1(x)))
    return nnx.relu(y + (x if self.shortcut is None else self.shortcut(x)))


class CifarResNet(nnx.Module):
  """ResNet-``depth`` with depth = 6n + 2, projection shortcuts between stages."""

  def __init__(self, input_shape, num_classes: int, depth: int = 20, width: int = 16, *,
               rngs: nnx.Rngs):
    if (depth - 2) % 6:
      raise TypeError(f'depth must be 6n+2 (20, 32, 44, 56, 110), got {depth}')
    blocks_per_stage = (depth - 2) // 6
    self.stem = ConvBN(input_shape[-1], width, 3, 1, rngs=rngs)
    blocks, channels = [], width
    for stage, out in enumerate((width, 2 * width, 4 * width)):
      for i in range(blocks_per_stage):
        strides = 2 if stage > 0 and i == 0 else 1
        blocks.append(BasicBlock(channels, out, strides, rngs=rngs))
        channels = out
    self.blocks = nnx.List(blocks)
    self.classifier = Linear(channels, num_classes, rngs=rngs)

  def __call__(self, x: jax.Array) -> jax.Array:
    x = nnx.relu(self.stem(x))
    for block in self.blocks:
      x = block(x)
    return self.classifier(x.mean(axis=(1, 2)))


@register('resnet20')
def resnet20(input_shape, num_classes, *, rngs, width=16):
  return CifarResNet(input_shape, num_classes, 20, width, rngs=rngs)


@register('resnet56')
def resnet56(input_shape, num_classes, *, rngs, width=16):
  return CifarResNet(input_shape, num_classes, 56, width, rngs=rngs)
