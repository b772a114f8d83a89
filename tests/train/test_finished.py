"""Readers of another run take exactly the checkpoint its summary describes: never a run still training,
never an older checkpoint in place of a damaged final one."""

import json
import runpy
import shutil
import subprocess
import sys

import jax
import numpy as np
import pytest
from flax import nnx

from prunejax import data, export, train
from prunejax.errors import PrunejaxError
from prunejax.methods import edge_deploy, train_and_evaluate
from prunejax.train import finished_checkpoint, finished_summary
from tests.conftest import REPO
from tests.train.test_checkpoint_faults import QUIET, flip_bytes, newest

HOLD_LOCK = '''
import fcntl, os, sys, time
handle = open(sys.argv[1] + '/.lock', 'a+')
fcntl.flock(handle, fcntl.LOCK_EX)
handle.seek(0); handle.truncate(); handle.write(f'process {os.getpid()}'); handle.flush()
print('held', flush=True)
time.sleep(60)
'''


@pytest.fixture
def finished(tiny_config, tmp_path_factory):
  tiny_config.keep_checkpoints = 3
  workdir = tmp_path_factory.mktemp('finished')
  summary = train_and_evaluate(tiny_config, workdir)
  return tiny_config, workdir, summary


def test_the_summary_names_its_checkpoint_and_readers_take_it(finished):
  config, workdir, summary = finished
  recorded = summary['checkpoint']
  assert recorded['step'] == summary['steps'] and len(recorded['digest']) == 16
  reader = finished_checkpoint(workdir)
  assert reader.number == recorded['number'] and reader.record == recorded
  assert finished_summary(workdir, config) == summary


def test_a_workdir_being_trained_is_refused_naming_its_holder(finished, capfd):
  config, workdir, _ = finished
  holder = subprocess.Popen([sys.executable, '-c', HOLD_LOCK, str(workdir)], stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline().strip() == 'held'
    for read in (finished_checkpoint, train.load, lambda w: export.export_run(w, 'stablehlo')):
      with pytest.raises(PrunejaxError, match=rf'is being trained by process {holder.pid}; wait for it'):
        read(workdir)
    assert finished_summary(workdir, config) is None  # a grid waits for the lock, then reads it
    (workdir / 'summary.json').rename(workdir / 'summary.moved')  # a first run, before its summary exists
    with pytest.raises(PrunejaxError, match=rf'is being trained by process {holder.pid} and holds no finished '
                                            'run yet; wait for it to finish'):
      export.export_run(workdir, 'stablehlo')
    (workdir / 'summary.moved').rename(workdir / 'summary.json')
  finally:
    holder.kill()
    holder.wait()
  assert finished_checkpoint(workdir).summary['steps'] > 0  # released: readable again


@QUIET
def test_a_damaged_final_checkpoint_is_refused_not_replaced_by_an_older_one(finished, tmp_path, capfd):
  config, clean, summary = finished
  damaged = tmp_path / 'damaged'
  shutil.copytree(clean, damaged)
  final = damaged / 'checkpoints' / str(summary['checkpoint']['number'])
  assert final == newest(damaged)
  flip_bytes(final)
  # Which way the flipped bytes show depends on what lies at the array file's middle, which has varied
  # between runs of this test: an array's data (a digest mismatch) or its encoding (unreadable).
  message = (rf'checkpoint {final.name} \(step {summary["steps"]}\) that summary.json describes is damaged: '
             r'(its arrays do not match the digest saved with them|it cannot be read \(\w+\)); re-run the '
             r'run\'s config')
  for read in (finished_checkpoint, train.load, lambda w: export.export_run(w, 'stablehlo')):
    with pytest.raises(PrunejaxError, match=message):
      read(damaged)
  assert not (damaged / 'export').exists()
  # A grid or deployment reading it back warns and re-runs it, which resumes and ends identically.
  assert finished_summary(damaged, config) is None
  assert 'that summary.json describes is damaged' in capfd.readouterr().err
  rerun = train_and_evaluate(config, damaged)
  assert rerun['test_loss'] == summary['test_loss'] and rerun['checkpoint']['digest'] == summary['checkpoint']['digest']
  jax.tree.map(np.testing.assert_array_equal, nnx_params(train.load(damaged)), nnx_params(train.load(clean)))


def test_a_damaged_summary_or_checkpoint_record_is_one_line(finished, tmp_path):
  config, clean, summary = finished
  damaged = tmp_path / 'damaged'
  shutil.copytree(clean, damaged)
  (damaged / 'summary.json').write_text('{"test_accuracy": 0.9')  # torn by a crash
  with pytest.raises(PrunejaxError, match=r'summary.json cannot be read \(JSONDecodeError\); re-run'):
    finished_checkpoint(damaged)
  shutil.copy(clean / 'summary.json', damaged / 'summary.json')
  meta = damaged / 'checkpoints' / str(summary['checkpoint']['number']) / 'meta' / 'metadata'
  meta.write_text(meta.read_text()[:40])
  with pytest.raises(PrunejaxError, match=r'is damaged: it cannot be read \(.*\); re-run'):
    finished_checkpoint(damaged)
  assert finished_summary(damaged, config) is None  # the deployment path: a fallback, not a traceback


def test_the_edge_deployment_falls_back_when_its_record_is_damaged(tiny_config, tmp_path, capfd):
  config = edge_deploy_config(tiny_config)
  workdir = tmp_path / 'deployed'
  first = edge_deploy.deploy(config, workdir)
  meta = newest(workdir) / 'meta' / 'metadata'
  meta.write_text('{"fingerprint": ')
  again = edge_deploy.deploy(config, workdir)  # resumes from the older checkpoint, retrains the rest
  assert again['test_loss'] == first['test_loss']
  assert 'is damaged' in capfd.readouterr().err


def test_an_export_records_the_checkpoint_it_took(finished):
  _, workdir, summary = finished
  exported = export.export_run(workdir, 'stablehlo', repeats=1)
  assert exported['source'] == summary['checkpoint'] and summary['checkpoint']['step'] == summary['steps']
  assert json.loads((workdir / 'export' / 'stablehlo_summary.json').read_text())['source'] == exported['source']


def edge_deploy_config(tiny_config):
  config = runpy.run_path(str(REPO / 'configs' / 'edge_retrain_lenet300_fashion_mnist.py'))['get_config']()
  for field in ('dataset', 'num_epochs', 'batch_size', 'eval_batch_size', 'download', 'progress_bar',
                'checkpoint_every_steps', 'plots'):
    config[field] = tiny_config[field]
  config.keep_checkpoints = 3
  return config


def nnx_params(model):
  return nnx.state(model, nnx.Param)


def test_load_serving_takes_raw_pixels_and_scores_the_runs_test_accuracy(finished):
  """``load`` is the bare network (standardised inputs); ``load_serving`` standardises raw pixels 0–255 as
  training did, so on the raw test split it scores the summary's test accuracy."""
  config, workdir, summary = finished
  run = train.Run(config, workdir, announce=False, lock=False)
  images, labels = np.asarray(run.splits.test.images), np.asarray(run.splits.test.labels)
  mean, std = run.splits.mean, run.splits.std
  run.close()
  serve = train.load_serving(workdir)
  accuracy = float(np.mean(np.argmax(serve(images), -1) == labels))
  assert accuracy == pytest.approx(summary['test_accuracy'], abs=1.5 / len(labels))
  standardised = train.load(workdir)(data.standardise(images[:8], np.asarray(mean), np.asarray(std)))
  np.testing.assert_allclose(serve(images[:8]), standardised, rtol=1e-5, atol=1e-5)
