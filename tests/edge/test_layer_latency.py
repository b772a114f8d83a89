import jax
import jax.numpy as jnp
from flax import nnx

from prunejax.edge.layer_latency import latency_by_kind, layer_ops


class EveryKind(nnx.Module):
  """One layer of each kind, in this order: full, pointwise, depthwise, grouped convolution, dense; the
  pointwise one twice (identical ops)."""

  def __init__(self, rngs):
    self.full = nnx.Conv(3, 8, (3, 3), rngs=rngs)
    self.pointwise = nnx.Conv(8, 8, (1, 1), rngs=rngs)
    self.depthwise = nnx.Conv(8, 8, (3, 3), feature_group_count=8, rngs=rngs)
    self.grouped = nnx.Conv(8, 8, (3, 3), feature_group_count=2, rngs=rngs)
    self.dense = nnx.Linear(8, 4, rngs=rngs)

  def __call__(self, x):
    x = self.pointwise(self.pointwise(self.full(x)))
    x = jax.nn.relu(self.grouped(self.depthwise(x)))
    return self.dense(x.mean(axis=(1, 2)))


def test_layer_ops_are_found_in_order_and_classified_by_kind():
  model = EveryKind(nnx.Rngs(0))
  ops = layer_ops(jax.jit(lambda x: model(x)), jnp.zeros((2, 6, 6, 3)))  # inside an inner jit too
  assert [op.kind for op in ops] == ['conv', 'pointwise', 'pointwise', 'depthwise', 'grouped', 'dense']
  assert ops[3].shapes[1][0] == (3, 3, 1, 8)  # the depthwise kernel: one input channel per group


def test_latency_by_kind_counts_every_op_and_times_the_whole_pass():
  model = EveryKind(nnx.Rngs(0))
  kinds = latency_by_kind(lambda x: model(x), jnp.zeros((2, 6, 6, 3)), repeats=1)
  assert {k: v['count'] for k, v in kinds.items()} == {
      'conv': 1, 'pointwise': 2, 'depthwise': 1, 'grouped': 1, 'dense': 1, 'whole': 1}
  assert all(v['seconds'] > 0 for v in kinds.values())
