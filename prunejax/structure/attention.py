"""What ``nnx.MultiHeadAttention`` needs beyond its jaxpr: equal head dims, and true static attributes.

The jaxpr of attention couples heads across q/k/v/out and q with k dims; value dims alone would be an
exact finer group, but flax computes attention with ``jax.nn.dot_product_attention``, which requires
value and key head dims to match. So each module's value dims are coupled to its query/key dims.
"""

from flax import nnx


def coupled_axes(model: nnx.Module) -> list[tuple[tuple[str, int], tuple[str, int]]]:
  """(path, axis) pairs that must keep the same channels: each attention module's value and query dims."""
  pairs = []
  for path, module in nnx.iter_modules(model):
    if isinstance(module, nnx.MultiHeadAttention):
      prefix = '/'.join(map(str, path))
      head_dims = module.query.kernel.ndim - 1  # kernel (in, heads, head_dim)
      pairs.append(((f'{prefix}/query/kernel', head_dims), (f'{prefix}/value/kernel', head_dims)))
  return pairs


def fix_attention(module: nnx.MultiHeadAttention) -> None:
  """Heads and widths of an attention module from its (shrunk) projections: the merged module runs and
  reports its true sizes (no hand-patching of ``num_heads``)."""
  in_features, module.num_heads, module.head_dim = module.query.kernel.shape
  module.in_features, module.qkv_features = in_features, module.num_heads * module.head_dim
  module.in_kv_features, module.num_kv_heads = module.key.kernel.shape[0], module.key.kernel.shape[1]
  module.out_features = module.out.kernel.shape[-1]
