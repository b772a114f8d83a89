"""scripts/accelerator_check.sh runs on CPU (its --small variant, over 2 fake devices) and prints a JSON line
whose checks all passed."""

import json
import os
import pathlib
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_accelerator_check_passes_on_cpu_and_prints_one_json_line(tmp_path):
  env = {**os.environ, 'PRUNEJAX_DATA_DIR': str(tmp_path / 'data'),
         'XLA_FLAGS': os.environ.get('XLA_FLAGS', '') + ' --xla_force_host_platform_device_count=2'}
  command = ['bash', 'scripts/accelerator_check.sh', '--cpu', '--small', f'--workdir={tmp_path / "runs"}']
  result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
  lines = result.stdout.strip().splitlines()
  assert result.returncode == 0 and lines, result.stdout[-2000:] + result.stderr[-3000:]
  report = json.loads(lines[-1])
  assert report['passed'] and not report['failed'], report
  assert report['backend'] == 'cpu' and report['devices'] == 2
  assert all(outcome.startswith('passed') for outcome in report['checks'].values())
  assert report['train_step']['bare_ms'] > 0 and report['train_step']['runner_ms'] > 0
  assert report['reconvene_synflow']['same_channels_kept']
  assert report['dynhp_memory']['budget_bytes'] > 0 and report['dynhp_memory']['prunes'] >= 1
  assert report['two_devices']['ran'] and report['two_devices']['passed']
