import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from hypothesis import given, settings, strategies as st

from prunejax import models, structure
from prunejax.core import leaf_paths
from prunejax.errors import PrunejaxError
from prunejax.models.layers import Conv, Linear


class ConcatNet(nnx.Module):
  """Two conv branches concatenated on channels, a conv on the concatenation, flatten, dense."""

  def __init__(self, rngs):
    self.left = Conv(1, 3, 3, rngs=rngs)
    self.right = Conv(1, 5, 3, rngs=rngs)
    self.mix = Conv(8, 4, 1, rngs=rngs)
    self.head = Linear(4 * 8 * 8 + 8 * 8 * 8, 6, rngs=rngs)
    self.classifier = Linear(6, 3, rngs=rngs)

  def __call__(self, x):
    both = jnp.concatenate([nnx.relu(self.left(x)), nnx.relu(self.right(x))], axis=-1)
    flat = jnp.concatenate([nnx.relu(self.mix(both)).reshape(x.shape[0], -1), both.reshape(x.shape[0], -1)],
                           axis=-1)
    return self.classifier(nnx.relu(self.head(flat)))


def randomised(model, seed=0):
  """Random values everywhere (BN statistics included) so that a wrong gather cannot go unnoticed."""
  graphdef, variables = nnx.split(model)
  rng = np.random.default_rng(seed)  # numpy: jax.random compiled once per leaf shape (5 s on MobileNetV2)
  new = [np.abs(rng.normal(size=x.shape)) + 0.5 if 'var' in p else rng.normal(size=x.shape) * 0.5
         for p, x in zip(jax.tree.leaves(leaf_paths(variables)), jax.tree.leaves(variables))]
  new = [jnp.asarray(n, x.dtype) for n, x in zip(new, jax.tree.leaves(variables))]
  return nnx.merge(graphdef, jax.tree.unflatten(jax.tree.structure(variables), new))


def random_keep(groups, seed, fraction=0.5):
  rng = np.random.default_rng(seed)
  return {g.name: rng.choice(g.size, max(1, int(round(fraction * g.size))), replace=False)
          for g in groups if g.prunable}


@functools.partial(jax.jit, static_argnums=0)
def evaluate(graphdef, variables, x):
  """The network's eval-mode logits, one compile per network (eagerly, each layer's operations compile on
  their own for every new channel count)."""
  return nnx.merge(graphdef, variables)(x)


def check_function_preserved(model, shape, keep_fn):
  x = jax.random.normal(jax.random.PRNGKey(3), (2,) + shape)
  groups = structure.trace_groups(model, x)
  keep = keep_fn(groups)
  shrunk = structure.shrink(model, keep)
  graphdef, variables = structure.eval_split(model)
  zeroed = structure.zero_channels(variables, structure.make_plan(groups, keep, variables))
  expected, got = evaluate(graphdef, zeroed, x), evaluate(*structure.eval_split(shrunk), x)
  np.testing.assert_allclose(got, expected, rtol=2e-4, atol=2e-4)
  before = sum(v.size for v in jax.tree.leaves(nnx.state(model, nnx.Param)))
  after = sum(v.size for v in jax.tree.leaves(nnx.state(shrunk, nnx.Param)))
  assert after < before
  return groups, shrunk


MODELS = [('lenet_300_100', {}, (8, 8, 1)), ('lenet5', {}, (8, 8, 1)), ('vgg11', {'width': 0.125}, (8, 8, 3)),
          ('resnet20', {'width': 4}, (8, 8, 1)), ('resnet56', {'width': 4}, (8, 8, 1)),
          ('mobilenetv2', {'width': 0.25}, (8, 8, 3))]


@pytest.mark.parametrize('name,kwargs,shape', MODELS)
def test_shrinking_preserves_the_function(name, kwargs, shape):
  model = randomised(models.create_model(name, shape, 10, **kwargs))
  check_function_preserved(model, shape, lambda groups: random_keep(groups, 0))


def test_concatenation_and_flatten_are_traced_with_offsets_and_strides():
  model = randomised(ConcatNet(nnx.Rngs(0)))
  groups, shrunk = check_function_preserved(model, (8, 8, 1), lambda gs: random_keep(gs, 1))
  head = [m for g in groups for m in g.members if m.path == 'head/kernel']
  assert {(m.piece.offset, m.piece.repeat) for m in head} >= {(0, 64), (256, 64), (256 + 3, 64)}
  assert shrunk.mix.in_features == shrunk.left.out_features + shrunk.right.out_features


@settings(deadline=None, max_examples=8)
@given(st.integers(0, 10_000), st.floats(0.1, 0.9))
def test_random_keep_sets_preserve_resnet_function(seed, fraction):
  model = randomised(models.create_model('resnet20', (8, 8, 1), 10, width=4), seed % 7)
  check_function_preserved(model, (8, 8, 1), lambda groups: random_keep(groups, seed, fraction))


def test_groups_couple_residual_paths_and_spare_the_classifier():
  model = models.create_model('resnet20', (8, 8, 1), 10, width=4)
  groups = {g.name: g for g in structure.trace_groups(model, jnp.ones((1, 8, 8, 1)))}
  stage1 = {str(m) for m in groups['stem/conv/kernel'].members}
  assert {'stem/bn/scale[0]', 'blocks/0/conv2/conv/kernel[3]', 'blocks/2/conv2/bn/mean[0]',
          'blocks/3/shortcut/conv/kernel[2]', 'blocks/0/conv1/conv/kernel[2]'} <= stage1
  assert not groups['classifier/kernel'].prunable
  assert 'classifier/kernel[1]' in str(groups['classifier/kernel'])
  with pytest.raises(PrunejaxError, match='reaches the model output .outputs=True cuts the classes'):
    structure.shrink(model, {'classifier/kernel': [0, 1]})
  # On request a head keeps some classes: their logits, unchanged.
  x = jax.random.normal(jax.random.key(0), (3, 8, 8, 1))
  head = structure.shrink(model, {'classifier/kernel': [2, 7]}, outputs=True)
  whole, cut = structure.eval_split(model), structure.eval_split(head)
  np.testing.assert_allclose(nnx.merge(*cut)(x), nnx.merge(*whole)(x)[:, [2, 7]], rtol=1e-6, atol=1e-6)


class LayerNormNet(nnx.Module):
  """Dense -> LayerNorm -> ReLU -> classifier: the normalised hidden units can go with their scale/bias."""

  def __init__(self, rngs):
    self.hidden = Linear(6, 10, rngs=rngs)
    self.norm = nnx.LayerNorm(10, rngs=rngs)
    self.classifier = Linear(10, 3, rngs=rngs)

  def __call__(self, x):
    return self.classifier(nnx.relu(self.norm(self.hidden(x))))


def test_layernorm_channels_shrink_with_their_scale_and_statistics():
  model = randomised(LayerNormNet(nnx.Rngs(0)))
  x = jax.random.normal(jax.random.PRNGKey(1), (4, 6))
  group = structure.trace_groups(model, x)[0]
  assert group.prunable and group.normalized and 'normalised over' in str(group)
  assert {'norm/scale[0]', 'norm/bias[0]', 'hidden/bias[0]', 'classifier/kernel[0]'} <= {str(m) for m in group.members}
  keep = np.array([0, 3, 4, 8])
  shrunk = structure.shrink(model, {group.name: keep})
  # The narrower network: LayerNorm statistics over the kept units only.
  h = np.asarray(x @ model.hidden.kernel[...] + model.hidden.bias[...])[:, keep]
  h = (h - h.mean(-1, keepdims=True)) / np.sqrt(h.var(-1, keepdims=True) + 1e-6)
  h = np.maximum(h * np.asarray(model.norm.scale[...])[keep] + np.asarray(model.norm.bias[...])[keep], 0)
  expected = h @ np.asarray(model.classifier.kernel[...])[keep] + np.asarray(model.classifier.bias[...])
  np.testing.assert_allclose(shrunk(x), expected, rtol=1e-4, atol=1e-5)
  assert shrunk.norm.num_features == 4


def test_channels_meeting_the_input_are_kept_with_the_reason():
  class InputResidual(nnx.Module):
    def __init__(self, rngs):
      self.dense = Linear(4, 4, rngs=rngs)
      self.classifier = Linear(4, 2, rngs=rngs)

    def __call__(self, x):
      return self.classifier(nnx.relu(self.dense(x) + x))

  group = structure.trace_groups(InputResidual(nnx.Rngs(0)), jnp.ones((1, 4)))[0]
  assert not group.prunable and "meets fixed channels at primitive 'add'" in str(group)


def test_depthwise_convolutions_shrink_with_their_group_count():
  model = models.create_model('mobilenetv2', (8, 8, 3), 10, width=0.25)
  groups = structure.trace_groups(model, jnp.ones((1, 8, 8, 3)))
  expand = next(g for g in groups if g.name == 'blocks/1/expand/conv/kernel')
  assert 'blocks/1/depthwise/conv/kernel[3]' in {str(m) for m in expand.members}
  shrunk = structure.shrink(model, {expand.name: range(expand.size // 2)})
  depthwise = shrunk.blocks[1].depthwise.conv
  assert depthwise.feature_group_count == depthwise.in_features == depthwise.out_features == expand.size // 2


def test_unsupported_primitives_fail_loudly_with_the_primitive():
  class Sorted(nnx.Module):
    def __init__(self, rngs):
      self.dense = Linear(4, 5, rngs=rngs)
      self.classifier = Linear(5, 2, rngs=rngs)

    def __call__(self, x):
      return self.classifier(jnp.sort(self.dense(x), axis=-1))

  with pytest.raises(PrunejaxError, match="primitive 'sort'"):
    structure.trace_groups(Sorted(nnx.Rngs(0)), jnp.ones((1, 4)), strict=True)


def test_bad_keep_sets_are_refused():
  model = models.create_model('lenet_300_100', (8, 8, 1), 10)
  structure.trace_groups(model, jnp.ones((1, 8, 8, 1)))
  with pytest.raises(PrunejaxError, match="no channel group named 'nope'"):
    structure.shrink(model, {'nope': [0]})
  with pytest.raises(PrunejaxError, match='non-empty subset of 0..299'):
    structure.shrink(model, {'hidden/0/kernel': [300]})
  with pytest.raises(PrunejaxError, match='non-empty subset'):
    structure.shrink(model, {'hidden/0/kernel': []})


def test_keep_masks_and_the_functional_form_agree_with_indices_and_leave_the_model_untouched():
  model = randomised(models.create_model('lenet5', (8, 8, 1), 10))
  groups = structure.trace_groups(model, jnp.ones((1, 8, 8, 1)))
  before = jax.tree.map(np.asarray, nnx.state(model))
  mask = np.zeros(16, bool)
  mask[[1, 5, 9]] = True
  by_mask = structure.shrink(model, {'conv2/kernel': mask})
  by_index = structure.shrink(model, {'conv2/kernel': [9, 1, 5]})
  jax.tree.map(np.testing.assert_array_equal, nnx.state(by_mask), nnx.state(by_index))
  jax.tree.map(np.testing.assert_array_equal, nnx.state(model), before)  # the original is untouched
  masks = jax.tree.map(lambda x: x > 0, nnx.state(model))
  graphdef, state, small_masks = structure.shrink_split(*nnx.split(model), groups, {'conv2/kernel': mask}, masks)
  jax.tree.map(np.testing.assert_array_equal, state, nnx.state(by_index))
  assert small_masks['fc1']['kernel'].shape == state['fc1']['kernel'].shape == (3 * 2 * 2, 120)  # 3 channels x 2x2 positions
  with pytest.raises(PrunejaxError, match=r'keep-mask for group .conv2/kernel. has shape \(15,\)'):
    structure.shrink(model, {'conv2/kernel': mask[:15]})


def test_adam_state_shrinks_with_the_params_and_training_continues():
  model = models.create_model('resnet20', (8, 8, 1), 10, width=4)
  x, y = jax.random.normal(jax.random.PRNGKey(0), (4, 8, 8, 1)), jnp.arange(4)
  groups = structure.trace_groups(model, x)
  tx = optax.adam(1e-2)

  def train_step(graphdef, params, rest, opt_state):
    def loss(p):
      logits = nnx.merge(graphdef, p, rest, copy=True)(x)
      return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    value, grads = jax.value_and_grad(loss)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return value, optax.apply_updates(params, updates), opt_state

  graphdef, params, rest = nnx.split(model, nnx.Param, ...)
  opt_state = tx.init(params)
  _, params, opt_state = jax.jit(train_step, static_argnums=0)(graphdef, params, rest, opt_state)
  keep = random_keep(groups, 5)
  plan = structure.make_plan(groups, keep, nnx.state(model))
  small_params = structure.shrink_tree(params, plan)
  small_opt = structure.shrink_tree(opt_state, plan)
  for a, b in zip(jax.tree.leaves(small_params), jax.tree.leaves(small_opt[0].mu)):
    assert a.shape == b.shape
  nnx.update(model, params)
  shrunk = structure.shrink(model, keep)
  g2, p2, r2 = nnx.split(shrunk, nnx.Param, ...)
  jax.tree.map(np.testing.assert_array_equal, p2, small_params)
  losses = []
  for _ in range(3):
    value, p2, small_opt = jax.jit(train_step, static_argnums=0)(g2, p2, r2, small_opt)
    losses.append(float(value))
  assert all(np.isfinite(losses))


class Mixing(nnx.Module):
  """conv -> an op along ``axis`` (a cumulative sum or a pooling window) -> conv -> classifier."""

  def __init__(self, op, rngs):
    self.op = op
    self.conv1 = Conv(1, 4, 3, padding='SAME', rngs=rngs)
    self.conv2 = Conv(4, 3, 3, padding='SAME', rngs=rngs)
    self.classifier = Linear(3, 2, rngs=rngs)

  def __call__(self, x):
    y = self.conv2(self.op(nnx.relu(self.conv1(x))))
    return self.classifier(y.mean(axis=(1, 2)))


@pytest.mark.parametrize('op,prunable', [
    (lambda y: jnp.cumsum(y, axis=-1), False),  # mixes channels
    (lambda y: jax.lax.cummax(y, axis=3), False),
    (lambda y: jnp.cumsum(y, axis=1), True),  # along the height: channels untouched
    (lambda y: nnx.max_pool(y, (2, 2), (2, 2)), True),  # spatial pooling
    (lambda y: jax.lax.reduce_window(y, -jnp.inf, jax.lax.max, (1, 1, 1, 2), (1, 1, 1, 1), 'SAME'), False),
    (lambda y: nnx.avg_pool(y, (3, 3), (1, 1), padding='SAME'), True),
])
def test_windowed_and_cumulative_ops_keep_channels_only_along_axes_they_do_not_mix(op, prunable):
  model = randomised(Mixing(op, nnx.Rngs(0)))
  x = jax.random.normal(jax.random.key(1), (2, 6, 6, 1))
  group = next(g for g in structure.trace_groups(model, x) if g.name == 'conv1/kernel')
  assert group.prunable == prunable, str(group)
  if prunable:  # shrinking a prunable group changes nothing but the removed channels' contribution
    check_function_preserved(model, (6, 6, 1), lambda groups: {'conv1/kernel': [0, 2, 3]})
  else:
    assert 'mixed along its channel axis' in group.reason


@pytest.mark.parametrize('op,primitive', [
    (lambda y: jnp.roll(y, 1, axis=-1), 'slice'),
    (lambda y: jnp.take(y, jnp.array([3, 0, 1, 2]), axis=-1), 'gather'),
    (lambda y: jax.lax.top_k(y, 4)[0], 'top_k'),
    (lambda y: y[..., ::-1], 'rev'),
])
def test_ops_that_select_or_reorder_channels_fail_loudly(op, primitive):
  with pytest.raises(PrunejaxError, match=f"primitive '{primitive}'"):
    structure.trace_groups(Mixing(op, nnx.Rngs(0)), jnp.ones((1, 6, 6, 1)), strict=True)


def test_an_argmax_over_channels_keeps_them():
  op = lambda y: y * jnp.argmax(y, axis=-1, keepdims=True).astype(y.dtype)
  group = next(g for g in structure.trace_groups(Mixing(op, nnx.Rngs(0)), jnp.ones((1, 6, 6, 1)))
               if g.name == 'conv1/kernel')
  assert not group.prunable and "indexed by primitive 'argmax'" in group.reason
