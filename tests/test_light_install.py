"""The light install: with TensorFlow, TFDS and LiteRT unimportable, the core imports and trains on
prunejax's own datasets (read by numpy into the arrays TFDS would give), and a feature that needs an extra
says which one in one line."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from prunejax.data import offline, sources

REPO = pathlib.Path(__file__).resolve().parents[1]
# Run first in the child: a None entry in sys.modules makes ``import`` raise ImportError and
# ``importlib.util.find_spec`` return None, as for a package that is not installed.
BLOCKER = textwrap.dedent('''
    import sys
    for blocked in ('tensorflow', 'tensorflow_datasets', 'ai_edge_litert'):
      sys.modules[blocked] = None
''')


def run_without_tensorflow(code: str, tmp_path: pathlib.Path) -> subprocess.CompletedProcess:
  env_code = BLOCKER + textwrap.dedent(code)
  env = {**os.environ, 'PRUNEJAX_DATA_DIR': str(tmp_path / 'data')}
  return subprocess.run([sys.executable, '-c', env_code], cwd=REPO, capture_output=True, text=True,
                        timeout=300, env=env)


@pytest.mark.parametrize('name', ['synthetic_images', 'synthetic_cifar', 'digits'])
def test_offline_arrays_equal_what_tfds_prepares(name, tmp_path):
  through_tfds = sources._load.__wrapped__(name, tmp_path, tmp_path, False)  # pylint: disable=protected-access
  splits = offline.read(name, tmp_path)
  for split in ('train', 'test'):
    np.testing.assert_array_equal(splits[split][0], getattr(through_tfds, f'{split}_images'))
    np.testing.assert_array_equal(splits[split][1], getattr(through_tfds, f'{split}_labels'))


def test_core_imports_and_trains_without_tensorflow(tmp_path):
  result = run_without_tensorflow(f'''
      import importlib, json, pkgutil, sys, runpy
      import prunejax
      # TFDS builders are TFDS itself; each command defines the same absl flags, so one of them stands for all.
      skipped = ('prunejax.data.builders', 'prunejax.commands.')
      names = [m.name for m in pkgutil.walk_packages(prunejax.__path__, 'prunejax.')
               if not m.name.startswith(skipped)] + ['prunejax.commands.export']
      for name in names:
        importlib.import_module(name)
      from prunejax import methods
      from prunejax.errors import PrunejaxError
      config = runpy.run_path('configs/smoke.py')['get_config']()
      config.dataset = 'synthetic_images'
      config.num_epochs, config.batch_size, config.eval_batch_size = 1, 32, 100
      config.progress_bar, config.plots, config.download = False, False, False
      summary = methods.train_and_evaluate(config, {str(tmp_path / 'run')!r})
      errors = {{}}
      from prunejax.data import sources
      try:
        sources.load_dataset('cifar10', download=False)
      except PrunejaxError as e:
        errors['cifar10'] = str(e)
      from prunejax.export import tflite
      try:
        tflite.interpreter_class('litert')
      except PrunejaxError as e:
        errors['litert'] = str(e)
      print(json.dumps({{'modules': len(names), 'accuracy': summary['test_accuracy'], 'errors': errors}}))
  ''', tmp_path)
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads(result.stdout.strip().splitlines()[-1])
  assert report['modules'] > 50
  assert report['accuracy'] > 0.5  # the synthetic classes are learnt in one epoch
  assert "pip install 'prunejax[tfds]'" in report['errors']['cifar10']
  assert "pip install 'prunejax[export]'" in report['errors']['litert']
  assert all('\n' not in message for message in report['errors'].values())
