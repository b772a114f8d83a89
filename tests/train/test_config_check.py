import pytest

from prunejax.errors import PrunejaxError
from prunejax.train.config_check import check_config


def test_the_tiny_config_is_valid(tiny_config):
  check_config(tiny_config)


@pytest.mark.parametrize('field,value,message', [
    ('model', 'alexnet', "unknown model 'alexnet'"),
    ('dataset', 'imagenet', "unknown dataset 'imagenet'"),
    ('batch_size', 0, 'config.batch_size=0 must be >= 1'),
    ('batch_size', 12.5, 'config.batch_size=12.5 must be an integer'),
    ('num_epochs', -1, 'config.num_epochs=-1 must be >= 1'),
    ('optimizer.learning_rate', -0.1, 'learning_rate=-0.1 must be > 0'),
    ('optimizer.learning_rate', float('nan'), 'learning_rate=nan must be a number (finite)'),
    ('optimizer.name', 'lion', "optimizer.name='lion' is unknown"),
    ('optimizer.schedule', 'linear', "schedule='linear' is unknown"),
    ('validation_fraction', 1.0, 'validation_fraction=1.0 must be in'),
    ('keep_checkpoints', 0, 'config.keep_checkpoints=0 must be >= 1; newest checkpoints kept: at least 1'),
    ('keep_checkpoints', -1, 'config.keep_checkpoints=-1 must be >= 1'),
    ('num_devices', -1, 'config.num_devices=-1 must be >= 0; 0 -> all visible devices'),
    ('progress_every_seconds', -1, 'config.progress_every_seconds=-1 must be >= 0'),
    ('optimizer.warmup_epochs', -5.0, 'config.optimizer.warmup_epochs=-5.0 must be >= 0'),
    ('optimizer.warmup_epochs', 2.0, 'warmup_epochs=2.0 leaves no training after warm-up (num_epochs=2)'),
    ('optimizer.decay_factor', -1.0, 'config.optimizer.decay_factor=-1.0 must be in (0, 1]'),
    ('optimizer.decay_factor', 1e5, 'config.optimizer.decay_factor=100000.0 must be in (0, 1]'),
    ('optimizer.decay_epochs', (5, -1), 'config.optimizer.decay_epochs=(5, -1) must be >= 0'),
    ('optimizer.momentum', 1.0, 'config.optimizer.momentum=1.0 must be in [0, 1)'),
    ('seed', 1.5, 'config.seed=1.5 must be an integer'),
])
def test_bad_values_fail_with_one_line_naming_the_field(tiny_config, field, value, message):
  with tiny_config.unlocked(), tiny_config.ignore_type():
    parent, _, leaf = field.rpartition('.')
    target = tiny_config[parent] if parent else tiny_config
    target[leaf] = value
  with pytest.raises(PrunejaxError) as error:
    check_config(tiny_config)
  assert message in str(error.value) and '\n' not in str(error.value)


@pytest.mark.parametrize('overrides,message', [
    ({'schedule': 'polynomial', 'end_step': 0}, r"config.pruning.method='snip' prunes at initialisation: set "
                                                'schedule=one_shot'),
])
def test_a_pruning_at_init_method_is_refused_for_what_it_is(tiny_config, overrides, message):
  tiny_config.pruning.update({'method': 'snip', 'sparsity': 0.5, **overrides})
  with pytest.raises(PrunejaxError, match=message):
    check_config(tiny_config)


@pytest.mark.parametrize('overrides,message', [
    ({'name': 'adam', 'momentum': 0.5}, r"config.optimizer.momentum=0.5 applies to name='sgd' \(adam keeps"),
    ({'schedule': 'cosine', 'decay_epochs': (1.0,)}, r"decay_epochs=\(1.0,\) applies to schedule='step' "
                                                     r"\(schedule='cosine'\)"),
    ({'schedule': 'constant', 'decay_factor': 0.5}, r"decay_factor=0.5 applies to schedule='step'"),
])
def test_optimizer_fields_the_choice_would_ignore_are_refused(tiny_config, overrides, message):
  tiny_config.optimizer.update(overrides)
  with pytest.raises(PrunejaxError, match=message):
    check_config(tiny_config)


def test_what_those_rules_let_be(tiny_config):
  """Switching an SGD config with nesterov=False (cifar10.py) to AdamW, and a layerwise config that prunes
  only the layers per_layer names (sparsity 0 elsewhere), are legitimate."""
  tiny_config.optimizer.update({'name': 'adamw', 'nesterov': False})
  tiny_config.pruning.update({'method': 'magnitude', 'sparsity': 0.0, 'scope': 'layerwise',
                              'per_layer': {'hidden': 0.5}})
  check_config(tiny_config)


@pytest.mark.parametrize('field,value,message', [
    ('method', 'obd', r"config.pruning.method='obd' is unknown; choose one of \('none', "),
    ('sparsity', 1.0, r'sparsity=1.0 must be in \[0, 1\)'),
    ('sparsity', -0.5, r'sparsity=-0.5 must be in \[0, 1\)'),
    ('scope', 'blockwise', "scope='blockwise' is unknown"),
    ('distribution', 'gaussian', "distribution='gaussian' is unknown"),
    ('distribution', 'erk', r"distribution='erk' applies to scope=layerwise \(now scope='global'"),
    ('per_layer', {'hidden': 0.3}, r"per_layer=.* applies to scope=layerwise \(now scope='global'"),
    ('sparsity', 0.0, r'sparsity=0.0 prunes nothing with pruning.method=magnitude; set a sparsity'),
    ('schedule', 'cosine', "schedule='cosine' is unknown"),
    ('score_mode', 'inference', "score_mode='inference' is unknown"),
    ('grasp_over', 'kernels', "grasp_over='kernels' is unknown"),
    ('synflow_precision', 'float16', "synflow_precision='float16' is unknown"),
    ('synflow_loop', 'gpu', "synflow_loop='gpu' is unknown"),
    ('include', '(kernel', r'config.pruning.include=\'\(kernel\' is not a regular expression'),
    ('grasp_temperature', 0.0, r'grasp_temperature=0.0 must be > 0'),
])
def test_bad_pruning_values_fail_before_anything_runs(tiny_config, field, value, message):
  tiny_config.pruning.method = 'magnitude'
  tiny_config.pruning.sparsity = 0.5
  with tiny_config.ignore_type():
    tiny_config.pruning[field] = value
  with pytest.raises(PrunejaxError, match=message):
    check_config(tiny_config)


def test_an_unknown_field_is_refused(tiny_config):
  with tiny_config.unlocked():
    tiny_config.num_epoch = 3
  with pytest.raises(PrunejaxError, match=r"config has unknown fields \['num_epoch'\]"):
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
