"""Layers and initialisers shared by the models (Conv-BatchNorm block, CIFAR-style init)."""

import jax
from flax import nnx

BN_MOMENTUM = 0.9  # PyTorch's 0.1 in flax's convention: short runs need statistics that move.
# Plain (untruncated) normals, as PyTorch's kaiming/lecun init: XLA compiles the truncated sampler's erfinv
# for every new shape, which made building a deep network slow.
conv_init = jax.nn.initializers.variance_scaling(2.0, 'fan_in', 'normal')
dense_init = jax.nn.initializers.variance_scaling(1.0, 'fan_in', 'normal')


def Linear(in_features: int, out_features: int, *, rngs: nnx.Rngs) -> nnx.Linear:  # pylint: disable=invalid-name
  """``nnx.Linear`` with LeCun-normal (untruncated) kernels."""
  return nnx.Linear(in_features, out_features, kernel_init=dense_init, rngs=rngs)


def Conv(in_features: int, out_features: int, kernel_size: int, **kwargs) -> nnx.Conv:  # pylint: disable=invalid-name
  """``nnx.Conv`` with He-normal (untruncated) kernels."""
  return nnx.Conv(in_features, out_features, (kernel_size, kernel_size), kernel_init=conv_init, **kwargs)


class ConvBN(nnx.Module):
  """Bias-free convolution followed by BatchNorm (the activation is left to the caller)."""

  def __init__(self, in_features: int, out_features: int, kernel_size: int = 3, strides: int = 1, *,
               groups: int = 1, rngs: nnx.Rngs):
    self.conv = Conv(in_features, out_features, kernel_size, strides=strides, padding='SAME',
                     feature_group_count=groups, use_bias=False, rngs=rngs)
    self.bn = nnx.BatchNorm(out_features, momentum=BN_MOMENTUM, rngs=rngs)

  def __call__(self, x: jax.Array) -> jax.Array:
    return self.bn(self.conv(x))
