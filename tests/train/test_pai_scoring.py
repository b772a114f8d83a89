"""PaI scoring conventions: BatchNorm mode of the data scorers (score_mode), GraSP over the prunable
leaves, and the masks' timing split."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from prunejax import core
from prunejax.data.pipeline import gather_batch
from prunejax.train import Pruning, Run, cross_entropy
from prunejax.train.pruning import score_batch


@pytest.fixture
def resnet_run(tiny_config, tmp_path):
  tiny_config.model = 'vgg11'  # BatchNorm after every convolution (8 of them)
  tiny_config.model_kwargs.width = 0.125
  tiny_config.pruning.method, tiny_config.pruning.sparsity = 'snip', 0.8
  run = Run(tiny_config, tmp_path)
  yield run
  run.close()


def snip_by_hand(run, graph):
  splits, cfg = run.splits, run.config
  x, y = gather_batch(jnp.asarray(splits.train.images), jnp.asarray(splits.train.labels),
                      jnp.asarray(score_batch(splits, cfg.pruning.score_batch_per_class, cfg.seed)),
                      jnp.asarray(splits.mean), jnp.asarray(splits.std))
  model_state = run.state.model_state
  loss = lambda p: cross_entropy(nnx.merge(graph, p, model_state, copy=True)(x), y).mean()
  return jax.jit(lambda params: core.snip(loss, params))(run.initial_params)  # eager: 7 s of small ops


def test_score_mode_picks_the_batchnorm_statistics_snip_differentiates_through(resnet_run):
  run = resnet_run
  by_hand = {'train': snip_by_hand(run, run.defs.train), 'eval': snip_by_hand(run, run.defs.eval)}
  assert not all(np.allclose(a, b, rtol=1e-2) for a, b in zip(jax.tree.leaves(by_hand['train']),
                                                              jax.tree.leaves(by_hand['eval'])))
  for mode in ('train', 'eval'):
    run.config.pruning.score_mode = mode
    pruning = Pruning(run.config.pruning, run.initial_params)
    scored = pruning.scored_masks_at_init(run.defs, run.initial_params, run.state.model_state, run.splits,
                                          run.config.seed, with_scores=True)
    for got, want in zip(jax.tree.leaves(scored['scores']), jax.tree.leaves(by_hand[mode])):
      np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-7)
    assert scored['compile_seconds'] > 0 and scored['score_seconds'] > 0
    kept = sum(int(m.sum()) for m in jax.tree.leaves(scored['masks']))
    total = sum(m.size for m in jax.tree.leaves(scored['masks']))
    assert kept == round(0.2 * total)  # exact count: round(density x N)


@pytest.mark.parametrize('precision,loop', [('float64', 'host'), ('float64', 'xla')])
def test_synflow_rounds_give_the_traced_loops_masks_however_driven(resnet_run, precision, loop):
  """SynFlow at init runs its rounds in one XLA while loop or one compiled round per host step
  (``synflow_loop``): its masks and final scores must be those of ``core.synflow_masks`` in one jit.
  (The scaled float32 precision takes the same path; its scores are tested in tests/core.)"""
  run = resnet_run
  run.config.pruning.method, run.config.pruning.synflow_rounds = 'synflow', 5
  run.config.pruning.synflow_precision, run.config.pruning.synflow_loop = precision, loop
  pruning = Pruning(run.config.pruning, run.initial_params)
  scored = pruning.scored_masks_at_init(run.defs, run.initial_params, run.state.model_state, run.splits,
                                        run.config.seed, with_scores=True)
  model_state = run.state.model_state
  forward = lambda p, x: nnx.merge(run.defs.eval, p, model_state, copy=True)(x)
  shape = run.splits.input_shape
  with jax.enable_x64(precision == 'float64'):
    traced = jax.jit(lambda p: core.synflow_masks(forward, p, shape, pruning.selected, 0.8, 5,
                                                  precision=precision))(run.initial_params)
    scores = jax.jit(lambda p: core.synflow_scores(forward, core.apply_masks(p, traced), shape,
                                                   precision))(run.initial_params)
  jax.tree.map(np.testing.assert_array_equal, scored['masks'], traced)
  jax.tree.map(np.testing.assert_array_equal, scored['scores'], scores)
  assert scored['compile_seconds'] > 0 and scored['score_seconds'] > 0


@pytest.mark.parametrize('model,width,expected', [('resnet20', 4, 'xla'), ('mobilenetv2', 0.25, 'host')])
def test_synflow_loop_auto_keeps_depthwise_networks_on_the_host(model, width, expected):
  """On CPU the rounds go into one while loop unless convolutions remain after the rewrite to products
  (MobileNetV2's depthwise ones, which XLA's CPU runs ~3x slower in a loop)."""
  from prunejax import models
  from prunejax.train.pruning import synflow_loop
  net = models.create_model(model, (8, 8, 1), 10, seed=0, width=width)  # narrow: every layer kept
  net.eval()
  graphdef, params, rest = nnx.split(net, nnx.Param, ...)
  forward = lambda p, x: nnx.merge(graphdef, p, rest, copy=True)(x)
  assert synflow_loop('auto', forward, params, (8, 8, 1)) == expected
  assert synflow_loop('host', forward, params, (8, 8, 1)) == 'host'
