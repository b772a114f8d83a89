"""One process at a time in a workdir: a second run fails at once in one line, a shared one is waited for,
and a dead holder's lock is gone."""

import subprocess
import sys
import time

import pytest

from prunejax import methods
from prunejax.errors import PrunejaxError
from prunejax.train import Run, workdir_lock

HOLD = """
import fcntl, os, sys, time
f = open(sys.argv[1] + '/.lock', 'a+')
fcntl.flock(f, fcntl.LOCK_EX)
f.seek(0); f.truncate(); f.write(f'process {os.getpid()}'); f.flush()
print('held', flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold(workdir, seconds):
  workdir.mkdir(parents=True, exist_ok=True)
  holder = subprocess.Popen([sys.executable, '-c', HOLD, str(workdir), str(seconds)], stdout=subprocess.PIPE,
                            text=True)
  assert holder.stdout.readline().strip() == 'held'
  return holder


def test_a_second_process_in_a_workdir_fails_at_once_naming_the_holder(tiny_config, tmp_path):
  holder = hold(tmp_path, 60)
  with pytest.raises(PrunejaxError, match=rf'{tmp_path} is in use by process {holder.pid}; wait for it'):
    Run(tiny_config, tmp_path)
  holder.kill()  # a killed holder leaves nothing behind: the kernel drops its lock
  holder.wait()
  run = Run(tiny_config, tmp_path)
  probe = probe_lock(tmp_path)
  assert probe.returncode != 0 and 'BlockingIOError' in probe.stderr  # this run holds it now
  run.close()
  assert probe_lock(tmp_path).returncode == 0  # and lets it go when closed


def probe_lock(workdir):
  return subprocess.run([sys.executable, '-c', 'import fcntl, sys; fcntl.flock(open(sys.argv[1] + "/.lock"), '
                         'fcntl.LOCK_EX | fcntl.LOCK_NB)', str(workdir)], capture_output=True, text=True)


def test_a_run_refused_at_start_up_releases_its_workdir(tiny_config, tmp_path):
  methods.train_and_evaluate(tiny_config, tmp_path)
  tiny_config.seed += 1  # another config: the workdir's fingerprint refuses it after the lock was taken
  with pytest.raises(PrunejaxError, match='was written with seed=0, but this run has seed=1'):
    Run(tiny_config, tmp_path)
  assert probe_lock(tmp_path).returncode == 0


def test_a_process_holding_a_workdir_twice_keeps_it_until_both_leave(tmp_path):
  first, second = workdir_lock(tmp_path), workdir_lock(tmp_path)  # e.g. two runs opened in one process
  first.__enter__()
  second.__enter__()
  first.__exit__(None, None, None)  # the first leaves while the second still works there
  assert probe_lock(tmp_path).returncode != 0
  second.__exit__(None, None, None)
  assert probe_lock(tmp_path).returncode == 0


def test_a_shared_workdir_is_waited_for_and_re_entrant(tmp_path, capsys):
  holder = hold(tmp_path, 1.0)
  started = time.monotonic()
  with workdir_lock(tmp_path, wait=True):
    waited = time.monotonic() - started
    with workdir_lock(tmp_path):  # the same process again: no deadlock
      pass
  holder.wait()
  assert waited > 0.5 and 'is in use by process' in capsys.readouterr().err
