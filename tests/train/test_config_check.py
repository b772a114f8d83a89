import pytest

from prunejax.errors import PrunejaxError
from prunejax.train.config_check import check_config


def test_the_tiny_config_is_valid(tiny_config):
  check_config(tiny_config)


@pytest.mark.parametrize('field,value,message', [
    ('model', 'alexnet', "unknown model 'alexnet'"),
    ('dataset', 'imagenet', "unknown dataset 'imagenet'"),
    ('batch_size', 0, 'config.batch_size=0 must be a positive integer'),
    ('batch_size', 12.5, 'config.batch_size=12.5 must be a positive integer'),
    ('num_epochs', -1, 'config.num_epochs=-1 must be a positive integer'),
    ('optimizer.learning_rate', -0.1, 'learning_rate=-0.1 must be a finite number > 0'),
    ('optimizer.learning_rate', float('nan'), 'learning_rate=nan must be a finite number > 0'),
    ('optimizer.name', 'lion', "optimizer.name='lion' is unknown"),
    ('optimizer.schedule', 'linear', "schedule='linear' is unknown"),
    ('validation_fraction', 1.0, 'validation_fraction=1.0 must be in'),
])
def test_bad_values_fail_with_one_line_naming_the_field(tiny_config, field, value, message):
  with tiny_config.unlocked(), tiny_config.ignore_type():
    parent, _, leaf = field.rpartition('.')
    target = tiny_config[parent] if parent else tiny_config
    target[leaf] = value
  with pytest.raises(PrunejaxError) as error:
    check_config(tiny_config)
  assert message in str(error.value) and '\n' not in str(error.value)


@pytest.mark.parametrize('field,value,message', [
    ('method', 'obd', "unknown pruning method 'obd'.*config.pruning.method"),
    ('sparsity', 1.0, r'sparsity=1.0 must be in \[0, 1\)'),
    ('sparsity', -0.5, r'sparsity=-0.5 must be in \[0, 1\)'),
    ('scope', 'blockwise', "scope='blockwise' is unknown"),
    ('distribution', 'gaussian', "distribution='gaussian' is unknown"),
    ('distribution', 'erk', 'apply to scope=layerwise'),
    ('schedule', 'cosine', "unknown pruning schedule 'cosine'"),
    ('score_mode', 'inference', "score_mode='inference' must be one of"),
    ('grasp_over', 'kernels', "grasp_over='kernels' must be 'prunable' or 'all'"),
    ('synflow_precision', 'float16', "synflow_precision='float16' must be auto or one of"),
    ('synflow_loop', 'gpu', "synflow_loop='gpu' must be one of"),
])
def test_bad_pruning_values_fail_before_anything_runs(tiny_config, field, value, message):
  tiny_config.pruning.method = 'magnitude'
  tiny_config.pruning.sparsity = 0.5
  with tiny_config.ignore_type():
    tiny_config.pruning[field] = value
  with pytest.raises(PrunejaxError, match=message):
    check_config(tiny_config)


def test_pai_methods_must_prune_at_initialisation(tiny_config):
  tiny_config.pruning.update({'method': 'snip', 'sparsity': 0.5, 'begin_step': 10})
  with pytest.raises(PrunejaxError, match='prunes at initialisation'):
    check_config(tiny_config)


def test_a_regex_that_selects_nothing_fails_before_training(tiny_config, tmp_path):
  from prunejax.methods import train_and_evaluate
  tiny_config.pruning.update({'method': 'magnitude', 'sparsity': 0.5, 'include': 'conv_kernel'})
  with pytest.raises(PrunejaxError, match='selects no parameter'):
    train_and_evaluate(tiny_config, tmp_path)
  assert not (tmp_path / 'checkpoints').exists()
