"""A run killed with SIGKILL and re-run with the same command ends bit-identical to an uninterrupted run."""

import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np

from tests.conftest import REPO
from tests.methods.test_dense_and_sparse import final_params

COMMAND = [sys.executable, 'scripts/train.py', '--config', 'configs/smoke.py',
           '--config.dataset=synthetic_images', '--config.num_epochs=40', '--config.batch_size=32',
           '--config.checkpoint_every_steps=50', '--config.progress_bar=False', '--config.download=False']


def train(workdir, **popen_kwargs):
  return subprocess.Popen(COMMAND + ['--workdir', str(workdir)], cwd=REPO, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, **popen_kwargs)


def wait_for_checkpoint(workdir, process, timeout=300):
  """Returns once a finished checkpoint exists (a numbered directory, not Orbax's temporary one)."""
  deadline = time.monotonic() + timeout
  while time.monotonic() < deadline and process.poll() is None:
    directory = workdir / 'checkpoints'
    if directory.exists() and any(p.name.isdigit() for p in directory.iterdir()):
      return
    time.sleep(0.01)
  raise AssertionError(f'no checkpoint appeared; process returned {process.poll()}: '
                       f'{process.stderr.read().decode()[-2000:] if process.poll() is not None else ""}')


def test_kill_9_then_rerun_gives_bit_identical_final_parameters(tmp_path):
  clean = train(tmp_path / 'clean')
  killed_dir = tmp_path / 'killed'
  victim = train(killed_dir)
  wait_for_checkpoint(killed_dir, victim)
  time.sleep(0.05)  # land somewhere between checkpoints, possibly inside the next save
  os.kill(victim.pid, signal.SIGKILL)
  victim.wait()
  assert victim.returncode == -signal.SIGKILL
  assert not (killed_dir / 'summary.json').exists(), 'the run finished before it could be killed'
  resumed = train(killed_dir)
  for process in (resumed, clean):
    assert process.wait(timeout=600) == 0, process.stderr.read().decode()[-3000:]
  jax.tree.map(np.testing.assert_array_equal, final_params(killed_dir), final_params(tmp_path / 'clean'))
  records = [line for line in (killed_dir / 'metrics.jsonl').read_text().splitlines()]
  steps = [int(line.split('"step": ')[1].split(',')[0].rstrip('}')) for line in records]
  assert steps == sorted(steps), 'metrics.jsonl repeats steps after the resume'
