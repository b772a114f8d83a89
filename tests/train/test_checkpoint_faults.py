"""Fault injection: a damaged newest checkpoint is named in a warning and the run falls back to the
newest intact one, ending bit-identical to an uninterrupted run; with none intact, one clear line."""

import shutil

import jax
import numpy as np
import pytest

from prunejax.errors import PrunejaxError
from prunejax.methods import train_and_evaluate
from prunejax.train import Checkpointer
from tests.methods.test_dense_and_sparse import final_params


def newest(workdir):
  return max((p for p in (workdir / 'checkpoints').iterdir() if p.name.isdigit()), key=lambda p: int(p.name))


def largest_array_file(step_dir):
  return max((p for p in step_dir.glob('state/**/d/*') if p.is_file()), key=lambda p: p.stat().st_size)


def flip_bytes(step_dir):
  path = largest_array_file(step_dir)
  data = bytearray(path.read_bytes())
  middle = len(data) // 2
  data[middle:middle + 256] = bytes(255 - b for b in data[middle:middle + 256])
  path.write_bytes(bytes(data))


def truncate(step_dir):
  path = largest_array_file(step_dir)
  path.write_bytes(path.read_bytes()[:path.stat().st_size // 3])


def delete_meta(step_dir):
  shutil.rmtree(step_dir / 'meta')


def delete_array_file(step_dir):
  largest_array_file(step_dir).unlink()


def junk_step(step_dir):
  junk = step_dir.parent / str(int(step_dir.name) + 7)
  junk.mkdir()
  (junk / 'state').write_text('not a checkpoint')


FAULTS = [flip_bytes, truncate, delete_meta, delete_array_file, junk_step]


@pytest.fixture
def finished(tiny_config, tmp_path_factory):
  tiny_config.keep_checkpoints = 3
  workdir = tmp_path_factory.mktemp('clean')
  train_and_evaluate(tiny_config, workdir)
  return tiny_config, workdir


# A failed read leaves Orbax's other reads finishing on a closed event loop: their reports must not reach
# the user (they buried the one-line warning), so any report the test sees fails it.
QUIET = pytest.mark.filterwarnings('error::pytest.PytestUnraisableExceptionWarning')


@QUIET
@pytest.mark.parametrize('fault', FAULTS, ids=lambda f: f.__name__)
def test_a_damaged_newest_checkpoint_falls_back_and_ends_identically(finished, tmp_path, fault, capfd):
  config, clean = finished
  damaged = tmp_path / 'damaged'
  shutil.copytree(clean, damaged)
  (damaged / 'summary.json').unlink()
  victim = newest(damaged)
  fault(victim)
  summary = train_and_evaluate(config, damaged)
  assert summary['test_loss'] == train_and_evaluate(config, clean)['test_loss']
  if fault is not junk_step:  # (a junk directory sits above the final checkpoint: nothing retrains)
    jax.tree.map(np.testing.assert_array_equal, final_params(damaged), final_params(clean))
    assert f'checkpoint {victim} is damaged' in capfd.readouterr().err
    assert victim.exists()  # never deleted by us


@QUIET
def test_no_intact_checkpoint_is_one_clear_line(finished, tmp_path):
  config, clean = finished
  damaged = tmp_path / 'damaged'
  shutil.copytree(clean, damaged)
  for step_dir in (p for p in (damaged / 'checkpoints').iterdir() if p.name.isdigit()):
    flip_bytes(step_dir)
  with pytest.raises(PrunejaxError, match='no intact checkpoint in .*move it away'):
    train_and_evaluate(config, damaged)


def test_restore_from_a_folder_that_is_not_a_checkpoint_is_one_line(tmp_path):
  (tmp_path / '7').mkdir()
  (tmp_path / '7' / 'notes.txt').write_text('not a checkpoint')
  with pytest.raises(PrunejaxError, match=r'/7 is not a readable prunejax checkpoint \(KeyError\); pass the '):
    Checkpointer(tmp_path).restore({'x': 1})
