"""Small vision transformers for 28x28 and 32x32 inputs: ``vit_tiny`` and a conv+attention hybrid.

Pre-LN blocks of ``nnx.MultiHeadAttention`` and a GELU MLP on a residual stream of ``dim`` channels;
a class token or mean pooling feeds the classifier. Everything the structure tracer prunes in them is
a plain nnx module: heads and head dims, MLP hidden units, the residual stream (with its LayerNorms,
class token and position embedding), and the hybrid's conv filters.
"""

import jax
import jax.numpy as jnp
from flax import nnx

from prunejax.models.layers import Conv, ConvBN, Linear, dense_init
from prunejax.models.registry import register

_embedding_init = jax.nn.initializers.normal(0.02)


class Block(nnx.Module):
  """x + attention(LN(x)), then x + MLP(LN(x)): the pre-LN transformer block."""

  def __init__(self, dim: int, heads: int, hidden: int, *, rngs: nnx.Rngs):
    self.attention_norm = nnx.LayerNorm(dim, rngs=rngs)
    self.attention = nnx.MultiHeadAttention(num_heads=heads, in_features=dim, kernel_init=dense_init,
                                            decode=False, deterministic=True, rngs=rngs)
    self.mlp_norm = nnx.LayerNorm(dim, rngs=rngs)
    self.mlp_in = Linear(dim, hidden, rngs=rngs)
    self.mlp_out = Linear(hidden, dim, rngs=rngs)

  def __call__(self, x: jax.Array) -> jax.Array:
    x = x + self.attention(self.attention_norm(x))
    return x + self.mlp_out(nnx.gelu(self.mlp_in(self.mlp_norm(x))))


class Encoder(nnx.Module):
  """Tokens (batch, length, dim) -> logits: position embedding, optional class token, blocks, norm, head."""

  def __init__(self, length: int, dim: int, depth: int, heads: int, hidden: int, num_classes: int,
               pool: str, *, rngs: nnx.Rngs):
    if pool not in ('cls', 'mean'):
      raise ValueError(f"pool={pool!r}; use 'cls' (a class token) or 'mean' (mean over tokens)")
    self.pool = pool
    self.class_token = nnx.Param(_embedding_init(rngs.params(), (1, 1, dim))) if pool == 'cls' else None
    self.position = nnx.Param(_embedding_init(rngs.params(), (1, length + (pool == 'cls'), dim)))
    self.blocks = nnx.List([Block(dim, heads, hidden, rngs=rngs) for _ in range(depth)])
    self.norm = nnx.LayerNorm(dim, rngs=rngs)
    self.classifier = Linear(dim, num_classes, rngs=rngs)

  def __call__(self, tokens: jax.Array) -> jax.Array:
    if self.class_token is not None:
      cls = jnp.broadcast_to(self.class_token[...], (tokens.shape[0], 1, tokens.shape[-1]))
      tokens = jnp.concatenate([cls, tokens], axis=1)
    x = tokens + self.position[...]
    for block in self.blocks:
      x = block(x)
    x = self.norm(x)
    # A static slice, not x[:, 0]: indexing lowers to a gather that TFLite cannot take with a dynamic batch.
    pooled = jax.lax.index_in_dim(x, 0, axis=1, keepdims=False) if self.class_token is not None else x.mean(1)
    return self.classifier(pooled)


def _tokens(x: jax.Array) -> jax.Array:
  return x.reshape(x.shape[0], -1, x.shape[-1])  # (batch, h, w, c) -> (batch, h*w, c)


class ViT(nnx.Module):
  """Non-overlapping ``patch`` x ``patch`` patches embedded by a strided conv, then the encoder."""

  def __init__(self, input_shape, num_classes: int, *, dim: int = 64, depth: int = 4, heads: int = 4,
               mlp_ratio: int = 2, patch: int = 4, pool: str = 'cls', rngs: nnx.Rngs):
    height, width, channels = input_shape
    self.patch_embedding = Conv(channels, dim, patch, strides=patch, padding='VALID', rngs=rngs)
    self.encoder = Encoder((height // patch) * (width // patch), dim, depth, heads, mlp_ratio * dim,
                           num_classes, pool, rngs=rngs)

  def __call__(self, x: jax.Array) -> jax.Array:
    return self.encoder(_tokens(self.patch_embedding(x)))


class Hybrid(nnx.Module):
  """MobileViT-style: a conv stem (two stride-2 Conv-BN-ReLU stages) gives the tokens of the encoder."""

  def __init__(self, input_shape, num_classes: int, *, stem: tuple[int, int] = (16, 32), dim: int = 64,
               depth: int = 2, heads: int = 4, mlp_ratio: int = 2, rngs: nnx.Rngs):
    height, width, channels = input_shape
    self.stem = nnx.List([ConvBN(channels, stem[0], 3, strides=2, rngs=rngs),
                          ConvBN(stem[0], stem[1], 3, strides=2, rngs=rngs)])
    self.embedding = Linear(stem[1], dim, rngs=rngs)
    length = (-(-height // 4)) * (-(-width // 4))  # two SAME stride-2 stages
    self.encoder = Encoder(length, dim, depth, heads, mlp_ratio * dim, num_classes, 'mean', rngs=rngs)

  def __call__(self, x: jax.Array) -> jax.Array:
    for stage in self.stem:
      x = nnx.relu(stage(x))
    return self.encoder(self.embedding(_tokens(x)))


@register('vit_tiny')
def vit_tiny(input_shape, num_classes, *, rngs, **kwargs):
  return ViT(input_shape, num_classes, rngs=rngs, **kwargs)


@register('hybrid_tiny')
def hybrid_tiny(input_shape, num_classes, *, rngs, **kwargs):
  return Hybrid(input_shape, num_classes, rngs=rngs, **kwargs)
