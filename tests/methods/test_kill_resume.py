"""A run killed with SIGKILL and re-run with the same command ends bit-identical to an uninterrupted run."""

import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from tests.conftest import REPO
from tests.methods.test_dense_and_sparse import final_params

pytestmark = pytest.mark.slow  # each test starts a command in a subprocess

COMMON = ['--config.dataset=synthetic_images', '--config.batch_size=32', '--config.progress_bar=False',
          '--config.download=False']
COMMANDS = {
    'dense': ['configs/smoke.py', '--config.num_epochs=40', '--config.checkpoint_every_steps=50'],
    # Prunes every 10 steps (a checkpoint after each; 5 prunes in 4 epochs) and grows the batch: kills land
    # around them.
    'dynhp': ['configs/dynhp_lenet300_fashion_mnist.py', '--config.num_epochs=4',
              '--config.checkpoint_every_steps=1000', '--config.dynhp.begin_step=10',
              '--config.dynhp.prune_every=10', '--config.dynhp.rate=0.15', '--config.dynhp.max_batch_size=256'],
}


def train(workdir, kind='dense', **popen_kwargs):
  config, *overrides = COMMANDS[kind]
  command = [sys.executable, 'scripts/train.py', '--config', config, *COMMON, *overrides]
  return subprocess.Popen(command + ['--workdir', str(workdir)], cwd=REPO, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, **popen_kwargs)


def wait_for_checkpoint(workdir, process, count=1, timeout=300):
  """Returns once ``count`` checkpoints were finished (numbered directories, not Orbax's temporary ones;
  numbers count saves, the newest few kept)."""
  deadline = time.monotonic() + timeout
  while time.monotonic() < deadline and process.poll() is None:
    directory = workdir / 'checkpoints'
    if directory.exists() and any(p.name.isdigit() and int(p.name) >= count - 1 for p in directory.iterdir()):
      return
    time.sleep(0.01)
  raise AssertionError(f'no checkpoint appeared; process returned {process.poll()}: '
                       f'{process.stderr.read().decode()[-2000:] if process.poll() is not None else ""}')


@pytest.mark.parametrize('kind,checkpoints', [('dense', 1), ('dynhp', 3)])
def test_kill_9_then_rerun_gives_bit_identical_final_parameters(tmp_path, kind, checkpoints):
  clean = train(tmp_path / 'clean', kind)
  killed_dir = tmp_path / 'killed'
  victim = train(killed_dir, kind)
  wait_for_checkpoint(killed_dir, victim, checkpoints)
  time.sleep(0.05)  # land somewhere between checkpoints, possibly inside the next save
  os.kill(victim.pid, signal.SIGKILL)
  victim.wait()
  assert victim.returncode == -signal.SIGKILL
  assert not (killed_dir / 'summary.json').exists(), 'the run finished before it could be killed'
  resumed = train(killed_dir, kind)
  for process in (resumed, clean):
    assert process.wait(timeout=600) == 0, process.stderr.read().decode()[-3000:]
  jax.tree.map(np.testing.assert_array_equal, final_params(killed_dir), final_params(tmp_path / 'clean'))
  records = [line for line in (killed_dir / 'metrics.jsonl').read_text().splitlines()]
  steps = [int(line.split('"step": ')[1].split(',')[0].rstrip('}')) for line in records]
  assert steps == sorted(steps), 'metrics.jsonl repeats steps after the resume'
