"""LeNet-300-100 (a 2-hidden-layer MLP) and LeNet-5, the classic pruning benchmarks, for any input size."""

import math

import jax
from flax import nnx

from prunejax.models.layers import Conv, Linear
from prunejax.models.registry import register


class MLP(nnx.Module):
  """Flatten, then ReLU Dense layers of ``hidden`` widths, then a linear classifier."""

  def __init__(self, input_shape, num_classes: int, hidden=(300, 100), *, rngs: nnx.Rngs):
    sizes = (math.prod(input_shape),) + tuple(hidden)
    self.hidden = nnx.List([Linear(a, b, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:])])
    self.classifier = Linear(sizes[-1], num_classes, rngs=rngs)

  def __call__(self, x: jax.Array) -> jax.Array:
    x = x.reshape(x.shape[0], -1)
    for layer in self.hidden:
      x = nnx.relu(layer(x))
    return self.classifier(x)


class LeNet5(nnx.Module):
  """Two 5x5 conv + 2x2 max-pool stages (6, 16 channels), then Dense 120, 84 and the classifier.

  Both convolutions use SAME padding so inputs as small as 8x8 work; 28x28 gives 16x7x7 features.
  """

  def __init__(self, input_shape, num_classes: int, *, rngs: nnx.Rngs):
    height, width, channels = input_shape
    self.conv1 = Conv(channels, 6, 5, padding='SAME', rngs=rngs)
    self.conv2 = Conv(6, 16, 5, padding='SAME', rngs=rngs)
    flat = 16 * (height // 4) * (width // 4)
    self.fc1 = Linear(flat, 120, rngs=rngs)
    self.fc2 = Linear(120, 84, rngs=rngs)
    self.classifier = Linear(84, num_classes, rngs=rngs)

  def __call__(self, x: jax.Array) -> jax.Array:
    x = nnx.max_pool(nnx.relu(self.conv1(x)), (2, 2), (2, 2))
    x = nnx.max_pool(nnx.relu(self.conv2(x)), (2, 2), (2, 2))
    x = x.reshape(x.shape[0], -1)
    x = nnx.relu(self.fc1(x))
    x = nnx.relu(self.fc2(x))
    return self.classifier(x)


@register('lenet_300_100')
def lenet_300_100(input_shape, num_classes, *, rngs):
  return MLP(input_shape, num_classes, (300, 100), rngs=rngs)


@register('mlp')
def mlp(input_shape, num_classes, *, rngs, hidden=(300, 100)):
  return MLP(input_shape, num_classes, tuple(hidden), rngs=rngs)


@register('lenet5')
def lenet5(input_shape, num_classes, *, rngs):
  return LeNet5(input_shape, num_classes, rngs=rngs)


class SmallCNN(nnx.Module):
  """3 conv (3x3, ReLU, 2x2 max-pool; 32/64/128 channels) + 2 dense: the pruning benchmarks' small CNN."""

  def __init__(self, input_shape, num_classes: int, *, rngs: nnx.Rngs):
    height, width, channels = input_shape
    self.convs = nnx.List([Conv(c_in, c_out, 3, padding='SAME', rngs=rngs)
                           for c_in, c_out in ((channels, 32), (32, 64), (64, 128))])
    self.fc = Linear(128 * (height // 8) * (width // 8), 256, rngs=rngs)
    self.classifier = Linear(256, num_classes, rngs=rngs)

  def __call__(self, x: jax.Array) -> jax.Array:
    for conv in self.convs:
      x = nnx.max_pool(nnx.relu(conv(x)), (2, 2), (2, 2))
    return self.classifier(nnx.relu(self.fc(x.reshape(x.shape[0], -1))))


@register('small_cnn')
def small_cnn(input_shape, num_classes, *, rngs):
  return SmallCNN(input_shape, num_classes, rngs=rngs)
