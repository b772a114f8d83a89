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
