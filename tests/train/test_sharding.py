"""Data parallelism: 4 fake CPU devices give the same training result as 1, up to float tolerance."""

import os
import subprocess
import sys

import numpy as np
import pytest

from prunejax.errors import PrunejaxError
from prunejax.train import sharding
from tests.conftest import REPO

SCRIPT = """
import json, runpy, sys
import jax, numpy as np
import tempfile
from prunejax.train import Run
assert jax.device_count() == 4, jax.devices()
config = runpy.run_path('configs/smoke.py')['get_config']()
config.dataset, config.model, config.batch_size, config.download = 'synthetic_images', 'vgg11', 32, False
config.model_kwargs.width = 0.125  # 8 Conv-BN layers: BatchNorm statistics must agree across devices too
results = {}
for devices in (1, 4):
  config.num_devices = devices
  run = Run(config, tempfile.mkdtemp())
  run.train('train', steps=6)
  assert len(run.state.params['classifier']['kernel'].sharding.device_set) == devices
  results[devices] = [np.asarray(x) for x in jax.tree.leaves((run.state.params, run.state.model_state))]
  results[f'{devices}-eval'] = run.evaluate(None, 'test')['loss']
  run.close()
diffs = [float(np.max(np.abs(a - b)) / (np.max(np.abs(b)) + 1e-12)) for a, b in zip(results[1], results[4])]
print(json.dumps({'max_relative_diff': max(diffs), 'eval': [results['1-eval'], results['4-eval']]}))
"""


def test_four_devices_match_one_device():
  env = dict(os.environ, XLA_FLAGS=os.environ.get('XLA_FLAGS', '') +
             ' --xla_force_host_platform_device_count=4', JAX_PLATFORMS='cpu')
  out = subprocess.run([sys.executable, '-c', SCRIPT], cwd=REPO, env=env, capture_output=True, text=True,
                       timeout=600)
  assert out.returncode == 0, out.stderr[-3000:]
  import json
  result = json.loads(out.stdout.strip().splitlines()[-1])
  assert result['max_relative_diff'] < 1e-4
  np.testing.assert_allclose(*result['eval'], rtol=1e-4)


def test_batch_must_divide_across_devices():
  mesh = sharding.data_mesh(1)
  sharding.check_batch_divisible(7, mesh)
  with pytest.raises(PrunejaxError, match='not divisible by the'):
    sharding.check_batch_divisible(7, type('FakeMesh', (), {'size': 4})())
