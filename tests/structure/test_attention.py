"""Attention, transformers and partial tracing in the structure layer."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from prunejax import models, structure
from prunejax.errors import PrunejaxError
from prunejax.models.layers import Linear
from tests.structure.test_shrink import Mixing, randomised


class Block(nnx.Module):
  def __init__(self, dim, heads, hidden, rngs):
    self.ln1 = nnx.LayerNorm(dim, rngs=rngs)
    self.attn = nnx.MultiHeadAttention(num_heads=heads, in_features=dim, decode=False, rngs=rngs)
    self.ln2 = nnx.LayerNorm(dim, rngs=rngs)
    self.fc1 = nnx.Linear(dim, hidden, rngs=rngs)
    self.fc2 = nnx.Linear(hidden, dim, rngs=rngs)

  def __call__(self, x):
    x = x + self.attn(self.ln1(x))
    return x + self.fc2(nnx.gelu(self.fc1(self.ln2(x))))


class TwoBlockViT(nnx.Module):
  """The issue's model: patch conv, class token, position embedding, two pre-LN blocks, head on x[:, 0]."""

  def __init__(self, rngs, dim=16, heads=4):
    self.patch = nnx.Conv(1, dim, (4, 4), strides=(4, 4), rngs=rngs)
    self.cls = nnx.Param(jax.random.normal(rngs.params(), (1, 1, dim)))
    self.pos = nnx.Param(jax.random.normal(rngs.params(), (1, 5, dim)))
    self.blocks = nnx.List([Block(dim, heads, 32, rngs) for _ in range(2)])
    self.ln = nnx.LayerNorm(dim, rngs=rngs)
    self.head = nnx.Linear(dim, 3, rngs=rngs)

  def __call__(self, x):
    x = self.patch(x)
    x = x.reshape(x.shape[0], -1, x.shape[-1])
    cls = jnp.broadcast_to(self.cls[...], (x.shape[0], 1, x.shape[-1]))
    x = jnp.concatenate([cls, x], axis=1) + self.pos[...]
    for block in self.blocks:
      x = block(x)
    return self.head(self.ln(x)[:, 0])


X = jax.random.normal(jax.random.key(1), (2, 8, 8, 1))


@pytest.fixture(scope='module')
def vit():
  model = randomised(TwoBlockViT(nnx.Rngs(0)))
  return model, structure.trace_groups(model, X)


def by_name(groups):
  return {g.name: g for g in groups}


def zeroed_and_shrunk(model, groups, keep, x=X):
  graphdef, variables = structure.eval_split(model)
  reference = nnx.merge(graphdef, structure.zero_channels(variables, structure.make_plan(groups, keep, variables)))
  shrunk = structure.shrink(model, keep, groups)
  shrunk.eval()
  return reference(x), shrunk(x), shrunk


def test_each_block_offers_a_head_group_and_an_mlp_group(vit):
  _, groups = vit
  groups = by_name(groups)
  for b in (0, 1):
    heads = groups[f'blocks/{b}/attn/query/kernel[1]']
    assert heads.size == 4 and heads.prunable and not heads.normalized
    assert {(m.path, m.axis) for m in heads.members} == {
        (f'blocks/{b}/attn/{p}/kernel', 1) for p in ('query', 'key', 'value')} | {
        (f'blocks/{b}/attn/{p}/bias', 0) for p in ('query', 'key', 'value')} | {(f'blocks/{b}/attn/out/kernel', 0)}
    mlp = groups[f'blocks/{b}/fc1/kernel']
    assert mlp.size == 32 and mlp.prunable and not mlp.normalized
  assert not groups['head/kernel'].prunable


def test_head_dims_pair_query_key_and_value_and_are_marked_normalized(vit):
  _, groups = vit
  dims = by_name(groups)['blocks/0/attn/query/kernel[2]']
  paths = {(m.path, m.axis) for m in dims.members}
  assert {('blocks/0/attn/query/kernel', 2), ('blocks/0/attn/key/kernel', 2), ('blocks/0/attn/value/kernel', 2),
          ('blocks/0/attn/out/kernel', 1)} <= paths
  assert dims.prunable and dims.normalized  # attention's 1/sqrt(head dim) changes with the width


def test_the_residual_stream_is_one_normalized_group_with_tokens_and_norms(vit):
  _, groups = vit
  stream = by_name(groups)['patch/kernel']
  paths = {m.path for m in stream.members}
  assert {'cls', 'pos', 'ln/scale', 'blocks/1/ln2/bias', 'blocks/0/attn/out/kernel', 'head/kernel'} <= paths
  assert stream.prunable and stream.normalized


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_random_head_and_mlp_keep_sets_preserve_the_function(vit, seed):
  model, groups = vit
  rng = np.random.default_rng(seed)
  keep = {g.name: rng.choice(g.size, rng.integers(1, g.size), replace=False)
          for g in groups if g.prunable and not g.normalized}
  assert len(keep) == 4  # two head groups, two MLP groups
  expected, got, shrunk = zeroed_and_shrunk(model, groups, keep)
  assert float(jnp.max(jnp.abs(expected - got))) <= 1e-4
  attention = shrunk.blocks[0].attn
  heads = len(keep['blocks/0/attn/query/kernel[1]'])
  assert (attention.num_heads, attention.num_kv_heads, attention.head_dim) == (heads, heads, 4)
  assert attention.qkv_features == heads * 4 and attention.in_features == attention.out_features == 16


def test_shrinking_head_dims_and_the_stream_gives_a_running_narrower_model(vit):
  model, groups = vit
  keep = {'blocks/0/attn/query/kernel[2]': [0, 3], 'patch/kernel': np.arange(10)}
  expected, got, shrunk = zeroed_and_shrunk(model, groups, keep)
  assert got.shape == expected.shape and bool(jnp.all(jnp.isfinite(got)))
  assert shrunk.blocks[0].attn.head_dim == 2 and shrunk.blocks[1].attn.head_dim == 4
  assert shrunk.cls.shape == (1, 1, 10) and shrunk.pos.shape == (1, 5, 10)
  assert shrunk.blocks[0].attn.in_features == 10 and shrunk.ln.num_features == 10


def test_data_aware_scores_name_the_same_groups_as_the_trace(vit):
  model, groups = vit
  scores = structure.data_scores(model, [(X, jnp.array([0, 2]))])
  prunable = {g.name for g in groups if g.prunable}
  assert prunable <= set(scores['taylor'])
  assert scores['taylor']['blocks/0/attn/query/kernel[1]'].shape == (4,)


@pytest.mark.parametrize('name,kwargs,shape', [
    ('vit_tiny', {'dim': 16, 'depth': 1, 'heads': 2}, (28, 28, 1)),
    ('vit_tiny', {'dim': 16, 'depth': 1, 'heads': 2, 'pool': 'mean'}, (32, 32, 3)),
    ('hybrid_tiny', {'stem': (4, 8), 'dim': 16, 'depth': 1, 'heads': 2}, (28, 28, 1)),
])
def test_registry_transformers_trace_and_shrink_function_preservingly(name, kwargs, shape):
  model = randomised(models.create_model(name, shape, 5, **kwargs))
  x = jax.random.normal(jax.random.key(2), (2,) + shape)
  groups = structure.trace_groups(model, x)
  exact = {g.name: np.arange(0, g.size, 2) for g in groups if g.prunable and not g.normalized}
  assert 'encoder/blocks/0/attention/query/kernel[1]' in exact and 'encoder/blocks/0/mlp_in/kernel' in exact
  expected, got, _ = zeroed_and_shrunk(model, groups, exact, x)
  assert float(jnp.max(jnp.abs(expected - got))) <= 1e-4


def test_grouped_query_attention_prunes_key_value_heads_with_their_query_heads():
  class GQA(nnx.Module):
    def __init__(self, rngs):
      self.attn = nnx.MultiHeadAttention(num_heads=6, num_kv_heads=3, in_features=12, decode=False, rngs=rngs)
      self.fc = nnx.Linear(12, 3, rngs=rngs)

    def __call__(self, x):
      return self.fc(self.attn(x).mean(1))

  model, x = randomised(GQA(nnx.Rngs(0))), jax.random.normal(jax.random.key(0), (2, 5, 12))
  groups = structure.trace_groups(model, x)
  heads = by_name(groups)['attn/key/kernel[1]']  # 3 key/value heads, each with its 2 query heads
  assert heads.size == 3 and heads.prunable and not heads.normalized
  query = next(m for m in heads.members if m.path == 'attn/query/kernel')
  assert query.axis == 1 and query.piece.inner == 2
  expected, got, shrunk = zeroed_and_shrunk(model, groups, {'attn/key/kernel[1]': [0, 2]}, x)
  assert float(jnp.max(jnp.abs(expected - got))) <= 1e-4
  assert (shrunk.attn.num_heads, shrunk.attn.num_kv_heads) == (4, 2)
  assert shrunk.attn.query.kernel.shape[1] == 4 and shrunk.attn.key.kernel.shape[1] == 2


@pytest.mark.parametrize('op,primitive', [
    (lambda y: jnp.sort(y, axis=-1), 'sort'),
    (lambda y: jnp.roll(y, 1, axis=-1), 'slice'),
    (lambda y: jnp.take(y, jnp.array([3, 0, 1, 2]), axis=-1), 'gather'),
])
def test_an_unknown_operation_keeps_only_the_groups_it_touches(op, primitive):
  model = randomised(Mixing(op, nnx.Rngs(0)))
  x = jax.random.normal(jax.random.key(1), (2, 6, 6, 1))
  groups = by_name(structure.trace_groups(model, x))
  assert not groups['conv1/kernel'].prunable and f"primitive '{primitive}'" in groups['conv1/kernel'].reason
  assert groups['conv2/kernel'].prunable
  expected, got, _ = zeroed_and_shrunk(model, list(groups.values()), {'conv2/kernel': [0, 2]}, x)
  np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
  with pytest.raises(PrunejaxError, match='cannot be shrunk'):
    structure.shrink(model, {'conv1/kernel': [0]}, list(groups.values()))


def test_a_variable_used_by_an_unknown_operation_keeps_its_groups_whole():
  class Sorted(nnx.Module):
    def __init__(self, rngs):
      self.dense = Linear(4, 6, rngs=rngs)
      self.other = Linear(4, 6, rngs=rngs)
      self.classifier = Linear(12, 2, rngs=rngs)

    def __call__(self, x):  # dense's kernel also goes through sort: its channels cannot be removed safely
      hidden = jnp.concatenate([self.dense(x), self.other(x)], axis=-1)
      return self.classifier(nnx.relu(hidden)) + jnp.sort(self.dense.kernel[...], axis=0).sum()

  groups = by_name(structure.trace_groups(Sorted(nnx.Rngs(0)), jnp.ones((1, 4))))
  assert not groups['dense/kernel'].prunable and "'sort'" in groups['dense/kernel'].reason
  assert groups['other/kernel'].prunable


class Shuffle(nnx.Module):
  """A channel shuffle with a fixed number of shuffle groups: its reshape split is undone differently
  after shrinking, so the split group must stay whole."""

  def __init__(self, rngs, g=2):
    self.g = g
    self.conv1, self.conv2 = nnx.Conv(1, 8, (3, 3), rngs=rngs), nnx.Conv(8, 4, (1, 1), rngs=rngs)
    self.head = nnx.Linear(4, 2, rngs=rngs)

  def __call__(self, x):
    h = nnx.relu(self.conv1(x))
    b, height, width, c = h.shape
    h = h.reshape(b, height, width, self.g, -1).transpose(0, 1, 2, 4, 3).reshape(b, height, width, c)
    return self.head(nnx.relu(self.conv2(h)).mean((1, 2)))


class RowsAsImage(nnx.Module):
  """Dense units reshaped into image rows, then a convolution slides across them."""

  def __init__(self, rngs):
    self.dense, self.conv, self.head = nnx.Linear(4, 32, rngs=rngs), nnx.Conv(1, 3, (3, 3), rngs=rngs), \
        nnx.Linear(3, 2, rngs=rngs)

  def __call__(self, x):
    h = nnx.relu(self.dense(x)).reshape(x.shape[0], -1, 4, 1)
    return self.head(nnx.relu(self.conv(h)).mean((1, 2)))


@pytest.mark.parametrize('model,x,name', [
    (Shuffle, jnp.ones((2, 6, 6, 1)), 'conv1/kernel'),
    (RowsAsImage, jnp.ones((2, 4)), 'dense/kernel'),
])
def test_a_split_that_is_not_attention_heads_keeps_its_group_whole(model, x, name):
  group = by_name(structure.trace_groups(model(nnx.Rngs(0)), x))[name]
  assert not group.prunable and ('reshape splits' in group.reason or 'non-channel axis' in group.reason)
