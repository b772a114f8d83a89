import jax
import jax.numpy as jnp
import numpy as np
import pytest

from prunejax import core


def test_magnitude_and_random():
  params = {'w': jnp.array([-2.0, 1.0])}
  np.testing.assert_array_equal(core.magnitude(params)['w'], [2.0, 1.0])
  a = core.random_scores(params, jax.random.PRNGKey(0))['w']
  b = core.random_scores(params, jax.random.PRNGKey(0))['w']
  np.testing.assert_array_equal(a, b)
  assert a.shape == (2,) and bool(jnp.all((a >= 0) & (a < 1)))


def test_snip_on_a_hand_computed_example():
  x = jnp.array([3.0, -2.0])
  params = {'w': jnp.array([1.0, 2.0])}
  scores = core.snip(lambda p: jnp.sum(p['w'] * x), params)  # dL/dw = x
  np.testing.assert_allclose(scores['w'], [3.0, 4.0])


def test_grasp_on_a_quadratic_and_its_sign_convention():
  a = jnp.array([[2.0, 1.0], [1.0, 3.0]])
  params = {'w': jnp.array([1.0, -1.0])}
  loss = lambda p, t: 0.5 * p['w'] @ a @ p['w'] / t
  temperature = 2.0
  g = a @ params['w'] / temperature
  hg = a @ g / temperature
  s = -params['w'] * hg  # the paper's score; it removes the highest
  keep_high = core.grasp(loss, params, temperature, prune='highest')['w']
  np.testing.assert_allclose(keep_high, -s, rtol=1e-6)
  np.testing.assert_allclose(core.grasp(loss, params, temperature, prune='lowest')['w'], s, rtol=1e-6)


def test_grasp_hessian_vector_product_matches_finite_differences():
  keys = jax.random.split(jax.random.PRNGKey(0), 3)
  x = jax.random.normal(keys[0], (5, 4))
  params = {'w1': jax.random.normal(keys[1], (4, 3)), 'w2': jax.random.normal(keys[2], (3, 2))}
  loss = lambda p, t: jnp.sum(jnp.tanh(jnp.tanh(x @ p['w1']) @ p['w2']) ** 2) / t
  grad = jax.grad(lambda p: loss(p, 1.0))
  g = grad(params)
  eps = 1e-3
  plus = grad(jax.tree.map(lambda p, v: p + eps * v, params, g))
  minus = grad(jax.tree.map(lambda p, v: p - eps * v, params, g))
  hg = jax.tree.map(lambda a, b: (a - b) / (2 * eps), plus, minus)
  scores = core.grasp(loss, params, temperature=1.0, prune='highest')  # = θ ⊙ Hg
  for name in params:
    np.testing.assert_allclose(scores[name], params[name] * hg[name], rtol=2e-2, atol=1e-3)


def linear_net(p, x):
  return x @ p['w1'] @ p['w2']


def test_synflow_on_a_hand_computed_linear_net():
  params = {'w1': jnp.array([[1.0, -2.0], [3.0, 0.5]]), 'w2': jnp.array([[1.5], [-1.0]])}
  w1, w2 = np.abs(params['w1']), np.abs(params['w2'])
  # R = 1ᵀ|W1||W2|: dR/dW1[i, j] = |W2|[j]; dR/dW2[j] = Σ_i |W1|[i, j] — all divided by the power of two
  # at or below R (here 8: R = 8.5) in float64 and scaled float32; in plain float32, where R may overflow,
  # by the largest score's (6: 4).
  expected = {'w1': w1 * w2[:, 0][None, :], 'w2': w2 * w1.sum(0)[:, None]}
  for precision, x64, scale in [('float64', True, 8.0), ('scaled_float32', False, 8.0), ('float64', False, 4.0)]:
    with jax.enable_x64(x64):
      scores = core.synflow_scores(linear_net, params, (2,), precision)
    np.testing.assert_allclose(scores['w1'], expected['w1'] / scale, rtol=1e-6)
    np.testing.assert_allclose(scores['w2'], expected['w2'] / scale, rtol=1e-6)


def test_synflow_scores_stay_finite_where_float32_overflows_r_but_not_the_scores():
  """Without float64, R = 64 · 4·10³⁷ is inf in float32 while each score (10³⁷) is not: the scores are
  divided by the largest score's power of two there, not R's (which would make them all 0)."""
  params = {'w1': jnp.full((4, 64), 1e37, jnp.float32)}
  with jax.enable_x64(False):
    scores = core.synflow_scores(lambda p, x: x @ p['w1'], params, (4,))
  weight = float(np.float32(1e37))
  np.testing.assert_allclose(scores['w1'], weight / 2.0 ** np.floor(np.log2(weight)), rtol=1e-6)


def test_synflow_is_iterative_and_exact():
  keys = jax.random.split(jax.random.PRNGKey(1), 2)
  params = {'w1': jax.random.normal(keys[0], (6, 5)), 'w2': jax.random.normal(keys[1], (5, 4))}
  selected = {'w1': True, 'w2': True}
  masks = core.synflow_masks(linear_net, params, (6,), selected, 0.8, rounds=4)
  assert sum(int(m.sum()) for m in jax.tree.leaves(masks)) == round(0.2 * 50)
  manual = {'w1': jnp.ones((6, 5), bool), 'w2': jnp.ones((5, 4), bool)}
  for r in range(1, 5):
    scores = core.synflow_scores(linear_net, core.apply_masks(params, manual), (6,))
    scores = jax.tree.map(lambda m, s: jnp.where(m, s, -1.0), manual, scores)
    manual = core.masks_global(scores, selected, 1 - 0.2 ** (r / 4))
  jax.tree.map(np.testing.assert_array_equal, masks, manual)
  one_round = core.synflow_masks(linear_net, params, (6,), selected, 0.8, rounds=1)
  assert any(not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(one_round), jax.tree.leaves(masks)))


def test_registry_finds_each_scorer_and_accepts_user_scorers():
  assert {'magnitude', 'random', 'snip', 'grasp', 'synflow'} <= set(core.scorer_names())
  assert core.get_scorer('grasp', temperature=50.0).temperature == 50.0

  @core.register_scorer
  class Ones(core.Scorer):
    name = 'test_ones'

    def scores(self, params, context):
      return jax.tree.map(jnp.ones_like, params)

  params = {'w': jnp.ones((2, 2))}
  masks = core.get_scorer('test_ones').masks(params, core.ScoreContext(), {'w': True}, 0.5)
  assert int(masks['w'].sum()) == 2


def test_grasp_over_the_prunable_leaves_holds_the_others_fixed():
  """The reference code's GraSP: g and Hg over the prunable weights only; over all parameters they differ
  as soon as the Hessian couples the prunable leaves with the others (a bias)."""
  a = jnp.array([[2.0, 1.0, 0.5], [1.0, 3.0, 0.7], [0.5, 0.7, 1.5]])
  params = {'b': jnp.array([0.3]), 'w': jnp.array([1.0, -1.0])}  # flattened order: b, w
  stack = lambda p: jnp.concatenate([p['w'], p['b']])
  temperature = 2.0
  loss = lambda p, t: 0.5 * stack(p) @ a @ stack(p) / t
  g_w = (a[:2] @ stack(params)) / temperature
  expected = params['w'] * (a[:2, :2] @ g_w) / temperature  # θ ⊙ H_ww g_w: the keep-high score
  scores = core.grasp(loss, params, temperature, selected={'b': False, 'w': True})
  np.testing.assert_allclose(scores['w'], expected, rtol=1e-6)
  np.testing.assert_array_equal(scores['b'], [0.0])
  over_all = core.grasp(loss, params, temperature)
  assert not np.allclose(over_all['w'], expected)  # the bias's gradient enters Hg
  g = a @ stack(params) / temperature
  np.testing.assert_allclose(over_all['w'], params['w'] * (a @ g)[:2] / temperature, rtol=1e-6)
