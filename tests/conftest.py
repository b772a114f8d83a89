"""Shared fixtures: a private TFDS data dir per test session and a seconds-long training config."""

import os
import pathlib
import runpy

import pytest

# Tests check behaviour, not speed: XLA's unoptimised CPU backend compiles about 5x faster here.
# Subprocesses started by tests inherit this, so compared runs use the same code generation.
os.environ.setdefault('XLA_FLAGS', '--xla_backend_optimization_level=0')

REPO = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope='session', autouse=True)
def data_dir(tmp_path_factory) -> pathlib.Path:
  """Every dataset a test prepares goes to a fresh directory, never the user's ~/tensorflow_datasets."""
  path = tmp_path_factory.mktemp('tensorflow_datasets')
  os.environ['PRUNEJAX_DATA_DIR'] = str(path)
  return path


@pytest.fixture
def tiny_config():
  """LeNet-300-100 on the synthetic 8x8 images: trains in about a second."""
  config = runpy.run_path(str(REPO / 'configs' / 'smoke.py'))['get_config']()
  config.dataset = 'synthetic_images'
  config.num_epochs = 2
  config.batch_size = 32
  config.eval_batch_size = 100
  config.download = False
  config.progress_bar = False
  config.checkpoint_every_steps = 10
  config.plots = False  # matplotlib is a third of a tiny run; tests/methods/test_runner.py checks the plots
  return config
