import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from prunejax import models, structure
from prunejax.core.paths import leaf_paths
from prunejax.errors import PrunejaxError


def batches(shape, sizes=(6, 6), seed=0):
  rng = np.random.default_rng(seed)
  return [(rng.normal(size=(n,) + shape).astype(np.float32), rng.integers(0, 10, n)) for n in sizes]


def consumer_taylor(model, groups, data):
  """Reference Taylor: per example |Σ W·∂L/∂W| over the consuming kernels' input rows of a channel.

  Scaling a kernel's input row for channel c scales that read of the channel, so this derivative is
  the activation-side a·∂L/∂a through an independent route (weights, per-example gradients).
  """
  graphdef, variables = structure.eval_split(model)

  def loss(v, x, y):
    logits = nnx.merge(graphdef, v, copy=True)(x[None])
    return optax.softmax_cross_entropy_with_integer_labels(logits, y[None]).sum()

  x = np.concatenate([b[0] for b in data])
  y = np.concatenate([b[1] for b in data])
  grad = jax.jit(jax.grad(loss))
  grads = jax.tree.map(lambda *g: np.stack(g), *[grad(variables, xi, yi) for xi, yi in zip(x, y)])
  weights = dict(zip(jax.tree.leaves(leaf_paths(variables)), jax.tree.leaves(variables)))
  per_example = dict(zip(jax.tree.leaves(leaf_paths(grads)), jax.tree.leaves(grads)))
  out = {}
  for group in groups:
    consumers = [m for m in group.members
                 if m.path.endswith('kernel') and m.axis == np.ndim(weights[m.path]) - 2]
    if not consumers:
      continue
    total = np.zeros((len(x), group.size))
    for member in consumers:
      w = np.asarray(weights[member.path])
      product = np.moveaxis(w[None] * np.asarray(per_example[member.path]), member.axis + 1, 1)
      for c in range(group.size):
        total[:, c] += product[:, member.piece.indices([c])].reshape(len(x), -1).sum(1)
    out[group.name] = np.abs(total).mean(0)
  return out


@pytest.mark.parametrize('name,shape,kwargs', [('lenet5', (12, 12, 1), {}),
                                               ('resnet20', (8, 8, 3), {'width': 4}),
                                               ('mobilenetv2', (8, 8, 3), {'width': 0.25})])
def test_taylor_equals_the_derivative_through_the_consuming_kernels(name, shape, kwargs):
  model = models.create_model(name, shape, 10, seed=1, **kwargs)
  data = batches(shape)
  groups = structure.trace_groups(model, jnp.ones((1,) + shape))
  scores = structure.data_scores(model, data)['taylor']
  expected = consumer_taylor(model, groups, data)
  assert set(scores) == set(expected)
  for name, values in expected.items():
    np.testing.assert_allclose(scores[name], values, rtol=2e-3, atol=1e-6, err_msg=name)


def test_mean_activation_is_the_mean_of_what_the_next_layer_reads():
  model = models.create_model('lenet_300_100', (8, 8, 1), 10, seed=0)
  data = batches((8, 8, 1), sizes=(5, 7))
  scores = structure.data_scores(model, data)['mean_activation']
  x = np.concatenate([b[0] for b in data]).reshape(12, -1)
  hidden = np.maximum(x @ np.asarray(model.hidden[0].kernel[...]) + np.asarray(model.hidden[0].bias[...]), 0)
  np.testing.assert_allclose(scores['hidden/0/kernel'], np.abs(hidden).mean(0), rtol=1e-4, atol=1e-6)


def test_scores_do_not_depend_on_how_the_data_is_batched():
  model = models.create_model('small_cnn', (8, 8, 1), 10, seed=0)
  split = structure.data_scores(model, batches((8, 8, 1), sizes=(4, 8)))
  (x1, y1), (x2, y2) = batches((8, 8, 1), sizes=(4, 8))
  whole = structure.data_scores(model, [(np.concatenate([x1, x2]), np.concatenate([y1, y2]))])
  for criterion in structure.DATA_CRITERIA:
    for name, values in whole[criterion].items():
      np.testing.assert_allclose(split[criterion][name], values, rtol=1e-4, atol=1e-7)


def test_no_batches_is_a_clear_error():
  model = models.create_model('lenet_300_100', (8, 8, 1), 10, seed=0)
  with pytest.raises(PrunejaxError, match='at least one batch'):
    structure.data_scores(model, [])
