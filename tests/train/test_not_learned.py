"""A trained network whose test loss is a uniform guess's is named in a warning in summary.json and on
stderr (a run that collapsed early ends at chance accuracy, which a table would otherwise show quietly)."""

import math
import types

import pytest

from prunejax.train import results


def fake_run(classes: int):
  return types.SimpleNamespace(splits=types.SimpleNamespace(num_classes=classes), workdir='runs/x', notes={})


def test_a_uniform_guess_is_a_warning_on_stderr_and_in_the_summary(capsys):
  summary = {'test_loss': math.log(10) + 1e-6, 'test_accuracy': 0.1}
  results._warn_if_not_learned(fake_run(10), summary)  # pylint: disable=protected-access
  assert summary['warning'].startswith('runs/x: the network did not learn: its test loss 2.3026 is a uniform')
  assert 'lower config.optimizer.learning_rate' in summary['warning']
  assert capsys.readouterr().err == f'warning: {summary["warning"]}\n'


@pytest.mark.parametrize('loss', [0.3, 0.98 * math.log(10)])
def test_a_network_that_learned_is_not_warned_about(loss, capsys):
  summary = {'test_loss': loss, 'test_accuracy': 0.5}
  results._warn_if_not_learned(fake_run(10), summary)  # pylint: disable=protected-access
  assert 'warning' not in summary and capsys.readouterr().err == ''


def test_a_methods_own_warning_is_kept():
  summary = {'test_loss': math.log(3), 'test_accuracy': 0.33, 'warning': 'compression 3.1 misses the target'}
  results._warn_if_not_learned(fake_run(3), summary)  # pylint: disable=protected-access
  first, second = summary['warning'].split('; ', 1)
  assert first == 'compression 3.1 misses the target' and 'did not learn' in second
