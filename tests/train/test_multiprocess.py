"""Two processes on localhost (JAX's distributed runtime, gloo collectives) train one run: the result equals
one process over 2 fake devices with the same global batch, and kill -9 of both processes then the same
commands again resumes to the uninterrupted result, bit for bit."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

import orbax.checkpoint as ocp

from tests.conftest import REPO
from tests.methods.test_dense_and_sparse import checkpoint_numbers, killed_after
from tests.methods.test_kill_resume import COMMANDS, COMMON, wait_for_checkpoint

pytestmark = pytest.mark.slow  # starts commands in subprocesses


def final_params(workdir):
  """The last checkpoint's arrays as host numpy arrays (saved over 2 devices; this process has one)."""
  path = (workdir / 'checkpoints' / str(checkpoint_numbers(workdir)[-1]) / 'state').absolute()
  with ocp.PyTreeCheckpointer() as reader:
    tree = reader.metadata(path).item_metadata.tree
    args = jax.tree.map(lambda _: ocp.RestoreArgs(restore_type=np.ndarray), tree)
    return reader.restore(path, args=ocp.args.PyTreeRestore(restore_args=args))


def free_port() -> int:
  with socket.socket() as s:
    s.bind(('localhost', 0))
    return s.getsockname()[1]


def command(kind, workdir):
  config, *overrides = COMMANDS[kind]
  return [sys.executable, 'scripts/train.py', '--config', config, *COMMON, *overrides, '--config.plots=False',
          '--workdir', str(workdir)]


def environment(devices: int) -> dict:
  flags = os.environ.get('XLA_FLAGS', '') + f' --xla_force_host_platform_device_count={devices}'
  return {**os.environ, 'JAX_PLATFORMS': 'cpu', 'XLA_FLAGS': flags}


def launch(kind, workdir, processes=2, extra=()):
  """One run as ``processes`` processes of one device each (process 0 is the coordinator)."""
  port = free_port()
  return [subprocess.Popen(command(kind, workdir) + [*extra, f'--coordinator_address=localhost:{port}',
                                                     f'--num_processes={processes}', f'--process_id={i}'],
                           cwd=REPO, env=environment(1), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
          for i in range(processes)]


def finish(processes):
  for process in processes:
    assert process.wait(timeout=600) == 0, process.stderr.read().decode()[-3000:]


def test_two_processes_equal_one_process_over_two_devices(tmp_path):
  # Streaming: each process gathers only its own rows of every global batch (the device pipeline's
  # multi-process path runs in the kill test below).
  shorter = ['--config.num_epochs=5', '--config.checkpoint_every_steps=40']
  together = launch('dense', tmp_path / 'two_processes', extra=[*shorter, '--config.input_pipeline=streaming'])
  alone = subprocess.run(command('dense', tmp_path / 'one_process') + shorter, cwd=REPO, env=environment(2),
                         capture_output=True, text=True, timeout=600)
  assert alone.returncode == 0, alone.stderr[-3000:]
  finish(together)
  summaries = [json.loads((tmp_path / name / 'summary.json').read_text()) for name in ('two_processes', 'one_process')]
  assert summaries[0]['num_devices'] == summaries[1]['num_devices'] == 2
  # The same global batches and the same replicated update; only the cross-device sum's implementation
  # differs (gloo between processes, XLA's within one), and a sum of two terms does not depend on order.
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7),
               final_params(tmp_path / 'two_processes'), final_params(tmp_path / 'one_process'))
  assert abs(summaries[0]['test_loss'] - summaries[1]['test_loss']) <= 1e-6 * abs(summaries[1]['test_loss'])
  written = sorted(p.name for p in (tmp_path / 'two_processes').iterdir())
  assert written == ['.lock', '.lock.process1', 'checkpoints', 'metrics.jsonl', 'summary.json', 'tensorboard']
  steps = [json.loads(line)['step'] for line in (tmp_path / 'two_processes' / 'metrics.jsonl').read_text().splitlines()]
  assert steps == sorted(steps)  # one writer: no record twice


def test_kill_9_of_both_processes_then_rerun_resumes_bit_identically(tmp_path):
  shorter = ['--config.num_epochs=3']  # prunes (shrinks) and grows the batch every 10 steps
  clean = launch('dynhp', tmp_path / 'clean', extra=shorter)
  victims = launch('dynhp', tmp_path / 'killed', extra=shorter)
  wait_for_checkpoint(tmp_path / 'killed', victims[0], 3)
  time.sleep(0.05)
  for victim in victims:
    os.kill(victim.pid, signal.SIGKILL)
  for victim in victims:
    victim.wait()
  assert not (tmp_path / 'killed' / 'summary.json').exists(), 'the run finished before it could be killed'
  finish(launch('dynhp', tmp_path / 'killed', extra=shorter))
  finish(clean)
  jax.tree.map(np.testing.assert_array_equal, final_params(tmp_path / 'killed'), final_params(tmp_path / 'clean'))
  summary = json.loads((tmp_path / 'killed' / 'summary.json').read_text())
  assert summary['num_devices'] == 2 and summary['num_prunes'] >= 1


def test_a_run_saved_on_two_devices_resumes_on_one(tmp_path):
  shorter = ['--config.num_epochs=4', '--config.checkpoint_every_steps=20']
  clean = subprocess.run(command('dense', tmp_path / 'two') + shorter, cwd=REPO, env=environment(2),
                         capture_output=True, text=True, timeout=600)
  assert clean.returncode == 0, clean.stderr[-3000:]
  oldest = checkpoint_numbers(tmp_path / 'two')[0]  # (the newest two are kept)
  resumed = killed_after(tmp_path / 'two', oldest, tmp_path / 'resumed_on_one')
  again = subprocess.run(command('dense', resumed) + shorter, cwd=REPO, env=environment(1),
                         capture_output=True, text=True, timeout=600)
  assert again.returncode == 0, again.stderr[-3000:]
  assert 'resuming from step' in again.stderr
  assert json.loads((resumed / 'summary.json').read_text())['num_devices'] == 1
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
               final_params(resumed), final_params(tmp_path / 'two'))


def test_commands_other_than_train_refuse_several_processes():
  result = subprocess.run([sys.executable, 'scripts/profile.py', '--config', 'configs/smoke.py',
                           '--coordinator_address=localhost:1', '--num_processes=2', '--process_id=0'],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
  assert result.returncode != 0
  assert result.stderr.strip().splitlines() == [result.stderr.strip()] and 'runs as one process' in result.stderr


@pytest.mark.parametrize('process_index', [0, 1])
def test_status_lines_are_printed_by_the_primary_process_only(process_index, monkeypatch, capsys):
  from prunejax.train import distributed  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(jax, 'process_index', lambda: process_index)
  distributed.say('pretraining lenet5')
  distributed.say('compression 3.1 misses target_compression=10', warning=True)
  printed = capsys.readouterr()
  if process_index == 0:
    assert printed.out == ''  # stdout is left to a command's result (the summary)
    assert printed.err == 'pretraining lenet5\nwarning: compression 3.1 misses target_compression=10\n'
  else:
    assert printed.out == printed.err == ''
