"""config.input_pipeline='streaming' (batches gathered on the host and sent) gives the run the device
pipeline gives, bit for bit: same cursor, same uint8 values, same step; and it resumes like it."""

import json
import runpy

import jax
import numpy as np
import pytest

from prunejax.errors import PrunejaxError
from prunejax.methods import train_and_evaluate
from tests.conftest import REPO
from tests.methods.test_dense_and_sparse import final_params, killed_after


def digest(workdir):
  return json.loads((workdir / 'summary.json').read_text())['checkpoint']['digest']


@pytest.mark.parametrize('augment', [False, True])
def test_streaming_and_device_pipelines_train_the_same_run(tiny_config, tmp_path, augment):
  tiny_config.augment = augment
  summaries = {}
  for pipeline in ('device', 'streaming'):
    tiny_config.input_pipeline = pipeline
    summaries[pipeline] = train_and_evaluate(tiny_config, tmp_path / pipeline)
  assert digest(tmp_path / 'device') == digest(tmp_path / 'streaming')
  for key in ('test_loss', 'test_accuracy', 'validation_loss'):
    assert summaries['device'][key] == summaries['streaming'][key]


def test_streaming_dynhp_with_shrinks_batch_changes_and_data_scores_matches_device(tmp_path):
  config = runpy.run_path(str(REPO / 'configs' / 'dynhp_lenet300_fashion_mnist.py'))['get_config']()
  config.update(dataset='synthetic_images', batch_size=32, num_epochs=2, progress_bar=False, download=False,
                plots=False, checkpoint_every_steps=1000)
  # Two prunes (at steps 10 and 25 of batch 32), the batch grows after each; taylor: scored on streamed batches.
  config.dynhp.update(begin_step=10, prune_every=15, rate=0.3, target_compression=2.0, max_batch_size=256,
                      score='taylor', score_examples=64)
  for pipeline in ('device', 'streaming'):
    config.input_pipeline = pipeline
    summary = train_and_evaluate(config, tmp_path / pipeline)
  assert summary['num_prunes'] >= 1 and summary['batch_size_final'] > 32
  assert digest(tmp_path / 'device') == digest(tmp_path / 'streaming')


def test_a_streaming_run_resumes_bit_identically(tiny_config, tmp_path):
  tiny_config.input_pipeline = 'streaming'
  train_and_evaluate(tiny_config, tmp_path / 'clean')
  resumed = killed_after(tmp_path / 'clean', 1, tmp_path / 'resumed')
  train_and_evaluate(tiny_config, resumed)
  jax.tree.map(np.testing.assert_array_equal, final_params(resumed), final_params(tmp_path / 'clean'))


def test_an_unknown_pipeline_is_refused_in_one_line(tiny_config, tmp_path):
  tiny_config.input_pipeline = 'disk'
  with pytest.raises(PrunejaxError, match="input_pipeline.*'device', 'streaming'"):
    train_and_evaluate(tiny_config, tmp_path)
