"""Conv-BatchNorm building block shared by the CNNs, with CIFAR-style initialisation."""

import jax
from flax import nnx

BN_MOMENTUM = 0.9  # PyTorch's 0.1 in flax's convention: short runs need statistics that move.
conv_init = jax.nn.initializers.he_normal()


class ConvBN(nnx.Module):
  """Bias-free convolution followed by BatchNorm (the activation is left to the caller)."""

  def __init__(self, in_features: int, out_features: int, kernel_size: int = 3, strides: int = 1, *,
               groups: int = 1, rngs: nnx.Rngs):
    self.conv = nnx.Conv(in_features, out_features, (kernel_size, kernel_size), strides, padding='SAME',
                         feature_group_count=groups, use_bias=False, kernel_init=conv_init, rngs=rngs)
    self.bn = nnx.BatchNorm(out_features, momentum=BN_MOMENTUM, rngs=rngs)

  def __call__(self, x: jax.Array) -> jax.Array:
    return self.bn(self.conv(x))
