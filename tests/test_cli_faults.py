"""Faults a command meets mid-run end in one line saying what to do, and the re-run ends bit-identical:
Ctrl-C (also inside a save), a disk that fills during a save, a read-only checkpoints directory."""

import contextlib
import json
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow  # each test starts a command in a subprocess

SMOKE = ['configs/smoke.py', '--config.progress_bar=False', '--config.plots=False']


def train(workdir, *overrides, **popen):
  command = [sys.executable, 'scripts/train.py', '--config', *SMOKE, *overrides, '--workdir', str(workdir)]
  return subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          **popen)


def errors(stderr: str) -> list[str]:
  """stderr's lines less the progress lines a run prints there."""
  return [line for line in stderr.strip().splitlines() if not line.startswith('train: step ')]


def finished(workdir, *overrides):
  process = train(workdir, *overrides)
  _, err = process.communicate(timeout=600)
  assert process.returncode == 0, err[-2000:]
  return json.loads((workdir / 'summary.json').read_text())


@contextlib.contextmanager
def mounted(*args):
  """``mount *args`` for the block (root only: elsewhere the test is skipped, saying why)."""
  target = args[-1]
  if subprocess.run(['mount', *args], capture_output=True, check=False).returncode != 0:
    pytest.skip('needs root to mount a small or read-only file system (CI runs as root)')
  try:
    yield
  finally:
    subprocess.run(['umount', '-l', target], check=False)


def test_ctrl_c_inside_saves_is_one_line_and_resumes_identically(tmp_path):
  # Saving nearly all the time; batch 64: 20 steps, 20 saves (each save is most of a step's time).
  overrides = ('--config.num_epochs=1', '--config.checkpoint_every_steps=1', '--config.batch_size=64')
  clean = finished(tmp_path / 'clean', *overrides)
  workdir = tmp_path / 'interrupted'
  # Ctrl-C as on a terminal: a suite started in the background (``cmd &`` in a script) hands its children
  # SIGINT ignored, and Python then installs no KeyboardInterrupt handler.
  process = train(workdir, *overrides, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
  while not (workdir / 'checkpoints' / '3').exists():
    assert process.poll() is None, process.stderr.read()
    time.sleep(0.02)
  process.send_signal(signal.SIGINT)
  _, err = process.communicate(timeout=120)
  assert process.returncode == 130, err
  assert err.strip().splitlines()[-1] == ('interrupted: the checkpoints written so far are kept; re-run the same '
                                          'command to resume.')
  assert 'Traceback' not in err and 'failed' not in err, err
  assert finished(workdir, *overrides)['checkpoint'] == clean['checkpoint']


def test_a_disk_that_fills_during_a_save_is_one_line_and_resumes_identically(tmp_path):
  overrides = ('--config.num_epochs=4', '--config.checkpoint_every_steps=20', '--config.keep_checkpoints=20')
  clean = finished(tmp_path / 'clean', *overrides)
  disk = tmp_path / 'disk'
  disk.mkdir()
  with mounted('-t', 'tmpfs', '-o', 'size=1500k', 'tmpfs', str(disk)):
    process = train(disk / 'run', *overrides)
    _, err = process.communicate(timeout=600)
    assert process.returncode == 1
    lines = errors(err)  # the checkpoint's or the metrics' write, whichever fails first
    assert len(lines) == 1 and lines[0].startswith('error: ') and 'No space left on device' in lines[0], err
    assert lines[0].endswith('free space or make it writable, then re-run the same command: it resumes from the '
                             'newest intact checkpoint.')
    subprocess.run(['mount', '-o', 'remount,size=64m', str(disk)], check=True)
    resumed = finished(disk / 'run', *overrides)
  assert resumed['checkpoint']['digest'] == clean['checkpoint']['digest']
  assert resumed['test_loss'] == clean['test_loss']


def test_a_read_only_checkpoints_directory_is_refused_at_start_up(tmp_path):
  workdir = tmp_path / 'run'
  finished(workdir, '--config.num_epochs=1')
  (workdir / 'summary.json').unlink()
  checkpoints = str(workdir / 'checkpoints')
  with mounted('--bind', checkpoints, checkpoints):
    subprocess.run(['mount', '-o', 'remount,ro,bind', checkpoints], check=True)
    process = train(workdir, '--config.num_epochs=1')
    _, err = process.communicate(timeout=300)
  assert process.returncode == 1
  assert errors(err) == [
      f'error: {checkpoints} cannot be written (a read-only file system or no permission); make it writable, '
      'or copy the workdir elsewhere and run there.']
