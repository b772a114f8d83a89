"""ADaPT in the authors' protocol: each rule of their code pinned on small hand-computed cases (the
ranking over a coupled group's members, the residual limit, the p estimate, the skipped entries, the DaPR
search and pass test, the baseline's epoch), and the protocol end to end."""

import runpy

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from prunejax import core, methods, models, structure
from prunejax.errors import PrunejaxError
from prunejax.methods import adapt as adapt_lib
from prunejax.methods import adapt_authors
from tests.conftest import REPO


def conv(c_in, c_out, rngs):
  return nnx.Conv(c_in, c_out, (3, 3), padding='SAME', rngs=rngs)


class Plain(nnx.Module):
  """conv1 (1 -> c1) -> conv2 (c1 -> c2) -> global mean -> Linear(c2 -> 2)."""

  def __init__(self, c1, c2, rngs):
    self.conv1, self.conv2, self.fc = conv(1, c1, rngs), conv(c1, c2, rngs), nnx.Linear(c2, 2, rngs=rngs)

  def __call__(self, x):
    return self.fc(nnx.relu(self.conv2(nnx.relu(self.conv1(x)))).mean((1, 2)))


class Residual(nnx.Module):
  """stem (1 -> 4) -> conv_a (4 -> 4) -> conv_b (4 -> 4) + stem -> global mean -> Linear(4 -> 2)."""

  def __init__(self, rngs):
    self.stem, self.conv_a, self.conv_b = conv(1, 4, rngs), conv(4, 4, rngs), conv(4, 4, rngs)
    self.fc = nnx.Linear(4, 2, rngs=rngs)

  def __call__(self, x):
    stem = nnx.relu(self.stem(x))
    return self.fc(nnx.relu(self.conv_b(nnx.relu(self.conv_a(stem))) + stem).mean((1, 2)))


def with_filter_means(model, means: dict[str, list[float]]):
  """Every weight of filter f of ``layer`` set to ±means[layer][f] (so its mean |W| is exactly that)."""
  for name, values in means.items():
    kernel = getattr(model, name).kernel
    signs = np.where(np.arange(kernel.size).reshape(kernel.shape) % 2, -1.0, 1.0)
    kernel.set_value(jnp.asarray(signs * np.asarray(values)[None, None, None, :], jnp.float32))
  return model


def removal(model, percent):
  x = jnp.zeros((1, 6, 6, 1))
  groups = [g for g in structure.trace_groups(model, x) if g.prunable]
  _, params = nnx.split(model, nnx.Param)
  leaves = dict(zip(jax.tree.leaves(core.leaf_paths(params)), jax.tree.leaves(params)))
  kernels = {p: np.asarray(v) for p, v in leaves.items() if p.endswith('kernel')}
  order = [f'{m}/kernel' for m in structure.layers_in_forward_order(
      lambda p, inputs: nnx.merge(nnx.graphdef(model), p)(inputs), params, x)]
  total = sum(int(np.prod(v.shape)) for v in leaves.values())
  return adapt_authors.remove_filters(groups, kernels, total, percent, order), total


def test_the_estimate_and_the_entries_their_loop_skips():
  # Ascending: c1f0 .1, c2f0 .2, c1f3 .3, c2f1 .4, c1f1 .5, c1f2 .6, c1f4 .7. conv2 (2 filters) is at its
  # limit of 2: each of its entries costs two positions, so c1f3 and c1f1 are skipped for good and c1f2
  # goes second. Each conv1 filter: its kernel 1·9 + conv2's out·kh·kw = 2·9 -> 27 of 148; two reach 30%.
  model = with_filter_means(Plain(5, 2, nnx.Rngs(0)), {'conv1': [.1, .5, .6, .3, .7], 'conv2': [.2, .4]})
  result, total = removal(model, 30.0)
  assert total == (45 + 5) + (90 + 2) + (4 + 2) == 148
  assert list(result.keep['conv1/kernel']) == [1, 3, 4] and 'conv2/kernel' not in result.keep
  assert result.estimated_percent == pytest.approx(100 * 54 / 148) and result.entries_used == 6


def test_a_linear_consumer_counts_only_its_out_features_and_p_stops_at_the_first_reach():
  # Ascending: c1f0 .1 (9 + 3·9 = 36 of 159: 22.6%), c2f0 .2 (conv2 now reads 3: 3·9 + fc out 2 = 29).
  model = with_filter_means(Plain(4, 3, nnx.Rngs(0)), {'conv1': [.1, .5, .9, .3], 'conv2': [.2, .8, .4]})
  first, total = removal(model, 20.0)
  assert total == 40 + 111 + 8 == 159
  assert first.keep == {'conv1/kernel': pytest.approx(np.array([1, 2, 3]))}
  assert first.estimated_percent == pytest.approx(100 * 36 / 159)
  second, _ = removal(model, 30.0)
  assert list(second.keep['conv2/kernel']) == [1, 2] and second.estimated_percent == pytest.approx(100 * 65 / 159)


def test_the_first_member_of_a_residual_chain_to_come_up_removes_its_index_from_all():
  # conv_b's filter 2 ranks first (.05): index 2 leaves the stem and conv_b together, and the whole group
  # goes even though the stem alone already passed p. Stem: 9 + conv_a's 4·9 = 45; conv_b: 4·9 + fc's 2.
  model = with_filter_means(Residual(nnx.Rngs(0)), {'stem': [.9, .1, .8, .7], 'conv_a': [1., 1., 1., 1.],
                                                    'conv_b': [.6, .5, .05, .95]})
  result, total = removal(model, 10.0)
  assert total == 40 + 148 + 148 + 10 == 346
  group = next(name for name in result.keep)
  assert list(result.keep[group]) == [0, 1, 3]
  assert result.estimated_percent == pytest.approx(100 * (45 + 38) / 346)


@pytest.mark.parametrize('width,percent,residual,limit', [
    (16, 5, True, 1), (16, 45, True, 8), (16, 55, True, 8), (160, 95, True, 9), (64, 5, True, 4),
    (16, 80, True, 4), (16, 50, True, 8), (64, 90, False, 2)])
def test_the_residual_limit_is_their_formula_float_edges_included(width, percent, residual, limit):
  assert adapt_authors.group_limit(width, percent, residual) == limit


def test_a_network_whose_dense_layers_dominate_is_refused_naming_the_reachable_p():
  model = with_filter_means(Plain(5, 2, nnx.Rngs(0)), {'conv1': [.1, .5, .6, .3, .7], 'conv2': [.2, .4]})
  result, _ = removal(model, 90.0)
  with pytest.raises(PrunejaxError, match=r"prune_percent=90 is out of reach for lenet5 under the authors' rule: "
                                          r'.* at most 54\.7% of the parameters'):
    adapt_authors.check_reached(result, 90.0, 'lenet5')


@pytest.mark.parametrize('largest,asked', [
    (95, [50, 75, 85, 90, 95]),
    (0, [50, 30, 20, 15, 10]),  # p = 5 is never probed
    (45, [50, 30, 40, 45, 50]),  # the failed bound comes up again, then the search stops
    (60, [50, 75, 65, 60, 65]),  # 62.5 rounds up to the failed 65 again
])
def test_their_dapr_search(largest, asked):
  seen = []
  found = adapt_authors.dapr_search(lambda p: seen.append(p) or p <= largest)
  assert found == largest and seen == asked


@pytest.mark.parametrize('accuracy,target,passing', [(0.8899, 0.8950, False), (0.8901, 0.8999, True),
                                                     (0.29, 0.2999, True), (0.5, 0.5, True)])
def test_their_pass_test_truncates_to_whole_points(accuracy, target, passing):
  assert adapt_authors.passes(accuracy, target) is passing


def test_the_baseline_epoch_is_the_last_best_on_all_classes():
  def epoch(val_correct, test_correct):
    return {'validation': {'correct': val_correct, 'count': [10, 10, 10]},
            'test': {'correct': test_correct, 'count': [10, 10, 10]}}
  epochs = [epoch([9, 1, 5], [9, 9, 9]), epoch([5, 5, 5], [1, 1, 1]), epoch([2, 8, 5], [5, 5, 5])]
  # All-class validation: 15, 15, 15 (ties: the last, epoch 3); on the subset {0} epoch 1 would win.
  assert adapt_lib.best_epoch(epochs, [0], range(3), later=True)['best_epoch'] == 3
  assert adapt_lib.best_epoch(epochs, [0], range(3), later=True)['subset_accuracy'] == 0.5
  assert adapt_lib.best_epoch(epochs, [0])['best_epoch'] == 1


@pytest.fixture
def authors_config(tiny_config, tmp_path):
  tiny_config.method, tiny_config.validation_fraction = 'adapt', 0.2
  tiny_config.model, tiny_config.model_kwargs = 'vgg11', {'width': 0.125}
  tiny_config.adapt = runpy.run_path(str(REPO / 'configs' / 'adapt_lenet5_fashion_mnist.py'))['adapt_block']()
  tiny_config.adapt.update(subset='1,3,8', finetune_epochs=1, total_epochs=2, decay_epochs=(1,),
                           agnostic_decay_epochs=(1,), pretrained_workdir=str(tmp_path / 'pretrained'))
  tiny_config.optimizer.decay_all = True
  return tiny_config


def test_the_authors_protocol_refuses_decay_on_kernels_only(authors_config, tmp_path):
  authors_config.optimizer.decay_all = False
  with pytest.raises(PrunejaxError, match='set config.optimizer.decay_all=True'):
    methods.train_and_evaluate(authors_config, tmp_path / 'aware')


def test_the_authors_protocol_end_to_end(authors_config, tmp_path):
  aware = methods.train_and_evaluate(authors_config, tmp_path / 'aware')
  assert aware['protocol'] == 'authors' and aware['selected_on'].startswith('subset validation')
  assert aware['estimated_percent'] >= 50.0 and aware['weights_pruned_fraction'] > 0.45
  assert all('classifier' not in name for name in aware['units_final'])
  authors_config.adapt.mode = 'data_agnostic'
  agnostic = methods.train_and_evaluate(authors_config, tmp_path / 'agnostic')
  assert agnostic['selected_on'].startswith('all-class validation') and agnostic['protocol'] == 'authors'


def test_an_unreachable_p_is_refused_before_any_training(authors_config, tmp_path):
  authors_config.model, authors_config.model_kwargs = 'lenet5', {}
  with pytest.raises(PrunejaxError, match="out of reach for lenet5 under the authors' rule"):
    methods.train_and_evaluate(authors_config, tmp_path / 'run')
  assert not (tmp_path / 'pretrained').exists()


def test_a_one_channel_stem_is_not_depthwise_so_its_residual_chain_keeps_the_p_share():
  # ResNet-20 on 1-channel images: the stem's kernel has one input channel. Its 16-wide residual chain,
  # made to rank first, stops at ceil(16·50/100) = 8 channels (the limit of a plain layer would be 2).
  model = models.create_model('resnet20', (8, 8, 1), 10, width=16)
  x = jnp.zeros((1, 8, 8, 1))
  groups = [g for g in structure.trace_groups(model, x) if g.prunable]
  chain = next(g for g in groups if g.name == 'stem/conv/kernel')
  graphdef, state = nnx.split(model)
  params = nnx.state(model, nnx.Param)
  leaves = dict(zip(jax.tree.leaves(core.leaf_paths(params)), jax.tree.leaves(params)))
  kernels = {p: np.asarray(v) * (1e-3 if any(m.path == p for m in chain.members) else 1.0)
             for p, v in leaves.items() if p.endswith('kernel')}
  order = [f'{m}/kernel' for m in structure.layers_in_forward_order(
      lambda s, inputs: nnx.merge(graphdef, s)(inputs), state, x)]
  total = sum(int(np.prod(v.shape)) for v in leaves.values())
  result = adapt_authors.remove_filters(groups, kernels, total, 50.0, order)
  assert len(result.keep[chain.name]) == 8


def test_an_unreachable_dapr_probe_fails():
  assert not adapt_lib.passes({'prune_percent': 95.0, 'unreachable': True}, 'authors')
