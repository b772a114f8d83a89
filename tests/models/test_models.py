import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from prunejax import models
from prunejax.errors import PrunejaxError
from prunejax.train.state import split_model

ALL = ['lenet_300_100', 'lenet5', 'small_cnn', 'vgg11', 'vgg16', 'resnet20', 'resnet56', 'mobilenetv2', 'vit_tiny',
       'hybrid_tiny']
param_count = lambda model: sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))


def test_registry_lists_every_model():
  assert set(ALL) <= set(models.model_names())


@pytest.mark.parametrize('name', ALL)
@pytest.mark.parametrize('shape', [(28, 28, 1), (32, 32, 3)])
def test_models_take_any_input_shape(name, shape):
  defs, params, model_state = split_model(models.create_model(name, shape, 7))
  forward = jax.jit(lambda p, s, x: nnx.merge(defs.eval, p, s)(x))
  logits = forward(params, model_state, jnp.ones((2,) + shape))
  assert logits.shape == (2, 7) and bool(jnp.all(jnp.isfinite(logits)))


@pytest.mark.parametrize('name,shape,expected', [
    ('lenet_300_100', (28, 28, 1), 784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10),
    ('lenet5', (28, 28, 1), (25 * 6 + 6) + (150 * 16 + 16) + (784 * 120 + 120) + (120 * 84 + 84) + 850),
    ('resnet20', (32, 32, 3), 272474),  # 0.27M: He et al.'s ResNet-20 plus two 1x1 projections + BN
    # patch conv, class token, 50 positions; 4 blocks of 2 LNs, q/k/v/out (4 heads x 16), MLP 64-128-64
    ('vit_tiny', (28, 28, 1), (16 * 64 + 64) + 64 + 50 * 64 + 4 * (256 + 4 * (64 * 64 + 64) + (64 * 128 + 128)
                                                               + (128 * 64 + 64)) + 128 + 650),
])
def test_parameter_counts_match_the_architecture(name, shape, expected):
  assert param_count(models.create_model(name, shape, 10)) == expected


def test_depthwise_convolutions_in_mobilenetv2():
  model = models.create_model('mobilenetv2', (32, 32, 3), 10)
  depthwise = model.blocks[1].depthwise.conv
  assert depthwise.feature_group_count == depthwise.in_features == depthwise.out_features


def test_batchnorm_statistics_move_in_train_mode_only():
  model = models.create_model('resnet20', (8, 8, 1), 10, width=4)
  x = jax.random.normal(jax.random.PRNGKey(0), (4, 8, 8, 1)) + 3.0
  statistics = lambda state: [np.array(leaf) for leaf in jax.tree.leaves(state)]
  for mode, should_move in (('eval', False), ('train', True)):
    defs, params, model_state = split_model(model)
    before = statistics(model_state)

    @jax.jit
    def forward(params, model_state, x, graphdef=getattr(defs, mode)):
      merged = nnx.merge(graphdef, params, model_state)
      merged(x)
      return nnx.state(merged, nnx.BatchStat)

    after = statistics(forward(params, model_state, x))
    moved = any(not np.allclose(a, b) for a, b in zip(before, after))
    assert moved == should_move, mode


@pytest.mark.parametrize('name,kwargs', [('mlp', {'hidden': (0, 10)}), ('mlp', {'hidden': (10, 0)}),
                                         ('resnet20', {'width': 0}), ('mlp', {'hidden': (-1,)}),
                                         ('vgg16', {'width': -1.0})])
def test_a_zero_width_is_one_line(name, kwargs):
  with pytest.raises(PrunejaxError, match=rf'bad config.model_kwargs .* for model {name!r}.*width') as error:
    models.create_model(name, (28, 28, 1), 10, **kwargs)
  assert '\n' not in str(error.value)


def test_a_bad_shape_or_class_count_is_named_not_blamed_on_model_kwargs():
  with pytest.raises(PrunejaxError, match=r"model 'resnet20' needs num_classes >= 1, got 0"):
    models.create_model('resnet20', (8, 8, 1), 0)
  with pytest.raises(PrunejaxError, match=r"cannot build model 'lenet5' for inputs of shape \(28, 28\) .*images "
                                          r'are \(height, width, channels\)'):
    models.create_model('lenet5', (28, 28), 10)


def test_unknown_model_and_bad_kwargs_fail_clearly():
  with pytest.raises(PrunejaxError, match="unknown model 'resnet18'.*lenet5"):
    models.create_model('resnet18', (32, 32, 3), 10)
  with pytest.raises(PrunejaxError, match="model_kwargs.*'resnet20'.*; resnet20 takes width=16, every width"):
    models.create_model('resnet20', (32, 32, 3), 10, depth=21)
  with pytest.raises(PrunejaxError, match=r"for model 'lenet_300_100' .*; lenet_300_100 takes no arguments"):
    models.create_model('lenet_300_100', (28, 28, 1), 10, widths=(50, 20))
  with pytest.raises(PrunejaxError, match=r"; mlp takes hidden=\(300, 100\), every width >= 1\."):
    models.create_model('mlp', (28, 28, 1), 10, widths=(50, 20))
