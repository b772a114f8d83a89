"""MobileNetV2 for CIFAR-sized inputs (stride 1 stem and first stages), with depthwise convolutions."""

import jax
from flax import nnx

from prunejax.models.layers import ConvBN, Linear
from prunejax.models.registry import register

# (expansion t, output channels c, repeats n, first stride s), as in Sandler et al. with CIFAR strides.
STAGES = ((1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
          (6, 320, 1, 1))


class InvertedResidual(nnx.Module):
  """1x1 expand, 3x3 depthwise, 1x1 linear projection; residual when stride 1 and shapes agree."""

  def __init__(self, in_features: int, out_features: int, expansion: int, strides: int, *,
               rngs: nnx.Rngs):
    hidden = in_features * expansion
    self.expand = ConvBN(in_features, hidden, 1, rngs=rngs) if expansion != 1 else None
    self.depthwise = ConvBN(hidden, hidden, 3, strides, groups=hidden, rngs=rngs)
    self.project = ConvBN(hidden, out_features, 1, rngs=rngs)
    self.residual = strides == 1 and in_features == out_features

  def __call__(self, x: jax.Array) -> jax.Array:
    y = x if self.expand is None else nnx.relu6(self.expand(x))
    y = self.project(nnx.relu6(self.depthwise(y)))
    return x + y if self.residual else y


class MobileNetV2(nnx.Module):
  """MobileNetV2 with width multiplier ``width``; 2.2M parameters at width 1 and 10 classes."""

  def __init__(self, input_shape, num_classes: int, width: float = 1.0, *, rngs: nnx.Rngs):
    scale = lambda c: max(8, int(round(c * width / 8)) * 8)
    channels = scale(32)
    self.stem = ConvBN(input_shape[-1], channels, 3, 1, rngs=rngs)
    blocks = []
    for expansion, out, repeats, first_stride in STAGES:
      for i in range(repeats):
        blocks.append(InvertedResidual(channels, scale(out), expansion, first_stride if i == 0 else 1,
                                       rngs=rngs))
        channels = scale(out)
    self.blocks = nnx.List(blocks)
    head = max(1280, scale(1280))
    self.head = ConvBN(channels, head, 1, rngs=rngs)
    self.classifier = Linear(head, num_classes, rngs=rngs)

  def __call__(self, x: jax.Array) -> jax.Array:
    x = nnx.relu6(self.stem(x))
    for block in self.blocks:
      x = block(x)
    x = nnx.relu6(self.head(x))
    return self.classifier(x.mean(axis=(1, 2)))


@register('mobilenetv2')
def mobilenetv2(input_shape, num_classes, *, rngs, width=1.0):
  return MobileNetV2(input_shape, num_classes, width, rngs=rngs)
