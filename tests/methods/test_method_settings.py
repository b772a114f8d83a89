"""Each method's block is checked at start-up against its settings: a value that cannot take effect is
refused in one line before any data is loaded."""

import runpy

import ml_collections
import pytest

from prunejax.errors import PrunejaxError
from prunejax.methods import METHODS, train_and_evaluate
from tests.conftest import REPO

CONFIGS = {'dynhp': 'dynhp_lenet300_fashion_mnist.py', 'reconvene': 'reconvene_vgg16_fashion_mnist.py',
           'adapt': 'adapt_lenet5_fashion_mnist.py', 'edge_retrain': 'edge_retrain_lenet300_fashion_mnist.py'}


def checked(method, field, value):
  config = runpy.run_path(str(REPO / 'configs' / CONFIGS[method]))['get_config']()
  with config.ignore_type():
    config[method][field] = value
  METHODS.get(method).check(config)


@pytest.mark.parametrize('method', sorted(CONFIGS))
def test_the_shipped_configs_pass(method):
  config = runpy.run_path(str(REPO / 'configs' / CONFIGS[method]))['get_config']()
  METHODS.get(method).check(config)


@pytest.mark.parametrize('method,field,value,message', [
    ('dynhp', 'max_batch_size', 64, r'config.dynhp.max_batch_size=64 is below config.batch_size=128: batch '
                                    r'sizing would shrink the batch'),
    ('dynhp', 'rate', 1.0, r'config.dynhp.rate=1.0 must be in \(0, 1\)'),
    ('dynhp', 'target_compression', 1.0, r'config.dynhp.target_compression=1.0 must be > 1'),
    ('dynhp', 'score', 'l3', r"config.dynhp.score='l3' is unknown"),
    ('reconvene', 'latency_rounds', 0, r'config.reconvene.latency_rounds=0 must be >= 1'),
    ('reconvene', 'threshold', float('nan'), r'config.reconvene.threshold=nan must be a number \(finite\)'),
    ('reconvene', 'upai', 'obd', r"config.reconvene.upai='obd' is unknown"),
    ('adapt', 'lr_after', 0.0, r'config.adapt.lr_after=0.0 must be > 0'),
    ('adapt', 'finetune_epochs', 30, r'config.adapt.finetune_epochs=30 must be below total_epochs=30'),
    ('adapt', 'score_examples', 0, r'config.adapt.score_examples=0 must be >= 1'),
    ('edge_retrain', 'shift_strength', -1.0, r'config.edge_retrain.shift_strength=-1.0 must be >= 0'),
    ('edge_retrain', 'prune_window', (0.6, 0.1), r'prune_window=\(0.6, 0.1\) must be \(begin, end\)'),
    ('edge_retrain', 'strategy', 'prune_more', r"config.edge_retrain.strategy='prune_more' is unknown"),
    ('edge_retrain', 'batch_size', 5000, r'config.edge_retrain.batch_size=5000 must be at most new_examples'),
])
def test_a_value_that_cannot_take_effect_is_one_line(method, field, value, message):
  with pytest.raises(PrunejaxError, match=message) as error:
    checked(method, field, value)
  assert '\n' not in str(error.value)


def test_a_block_no_method_reads_is_refused(tiny_config, tmp_path):
  with tiny_config.unlocked():
    tiny_config.dynph = ml_collections.ConfigDict({'rate': 0.2})
  with pytest.raises(PrunejaxError, match=r"config has blocks \['dynph'\] that no method reads \(a typo\?\)"):
    train_and_evaluate(tiny_config, tmp_path)
  assert not tmp_path.joinpath('checkpoints').exists()
