"""Config files load from Python as the command line loads them."""

import pytest

import prunejax
from prunejax import configs
from prunejax.errors import PrunejaxError
from tests.conftest import REPO


def test_a_config_file_loads_by_path(tmp_path):
  config = prunejax.configs.load(REPO / 'configs' / 'dynhp_lenet5_fashion_mnist.py')
  assert config.method == 'dynhp' and config.model == 'lenet5'
  variant = tmp_path / 'variant.py'
  variant.write_text('import ml_collections\n\ndef get_config(arg=\'small\'):\n'
                     '  return ml_collections.ConfigDict({\'size\': arg})\n')
  assert prunejax.configs.load(f'{variant}:large').size == 'large'
  assert prunejax.configs.load(variant).size == 'small'


def test_a_missing_file_or_function_is_one_line(tmp_path):
  with pytest.raises(PrunejaxError, match='config file nowhere.py does not exist'):
    prunejax.configs.load('nowhere.py')
  (tmp_path / 'empty.py').write_text('x = 1\n')
  with pytest.raises(PrunejaxError, match='defines no get_config'):
    prunejax.configs.load(tmp_path / 'empty.py')


@pytest.mark.parametrize('path', sorted((REPO / 'configs').glob('*.py')), ids=lambda p: p.stem)
def test_every_shipped_config_passes_its_checks(path):
  config = prunejax.configs.load(path)
  prunejax.train.config_check.check_config(config)
  method = prunejax.methods.METHODS.get(prunejax.methods.registry.method_name(config))
  if method.check is not None:
    method.check(config)


def test_a_config_argument_given_or_missing_is_one_line(tmp_path):
  needs = tmp_path / 'needs.py'
  needs.write_text('def get_config(epochs):\n  return None\n')
  with pytest.raises(PrunejaxError, match=rf"get_config\(\) missing 1 required .*; pass it as '{needs}:arg'\."):
    configs.load(needs)
  with pytest.raises(PrunejaxError, match=r"takes 0 positional arguments .*; its get_config takes no argument: "
                                          r"drop ':x'\."):
    configs.load(str(REPO / 'configs' / 'smoke.py') + ':x')
