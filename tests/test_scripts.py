"""The command-line entry points, run as a user runs them."""

import json
import pathlib
import subprocess
import sys

import pytest

from prunejax import cli
from prunejax.methods import train_and_evaluate
from tests.conftest import REPO

pytestmark = pytest.mark.slow  # each test starts a command in a subprocess


def run(*args, timeout=600):
  return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)


def test_train_cli_reports_bad_config_in_one_line(tmp_path):
  out = run('scripts/train.py', '--config', 'configs/smoke.py', '--workdir', str(tmp_path),
            '--config.model=resnet18')
  assert out.returncode != 0
  last = out.stderr.strip().splitlines()[-1]
  assert last.startswith("error: unknown model 'resnet18'; choose one of")
  assert not (tmp_path / 'checkpoints').exists()


def test_config_files_load_with_an_argument_and_a_non_config_is_one_line(tmp_path):
  """--config takes 'file.py:arg' as ml_collections (and prunejax.configs.load) do; a file that is not a
  Python config is one line naming what it raised, not a traceback."""
  variant = tmp_path / 'variant.py'
  variant.write_text('import runpy\n\ndef get_config(epochs):\n'
                     f'  config = runpy.run_path({str(REPO / "configs" / "smoke.py")!r})["get_config"]()\n'
                     '  config.num_epochs = int(epochs)\n  return config\n')
  assert cli.override_errors(['--config', f'{variant}:3', '--config.seed=1']) == []
  assert cli.override_errors([f'--config={variant}:3', '--config.sead=1'])[0].startswith(
      "config has no field 'sead' (from --config.sead); did you mean one of ['seed'")
  [error] = cli.override_errors(['--config', str(REPO / 'README.md')])
  assert error.startswith(f'cannot load --config {REPO / "README.md"}: SyntaxError: ') and '\n' not in error


def test_profile_cli_writes_the_edge_figures(tmp_path):
  out = run('scripts/profile.py', '--config', 'configs/smoke.py', '--out', str(tmp_path / 'p.json'),
            '--config.edge.threads=1', '--config.edge.batch_sizes=(1,8)')
  assert out.returncode == 0, out.stderr[-2000:]
  figures = json.loads((tmp_path / 'p.json').read_text())
  assert figures['params_total'] == 50610 and figures['cpu_threads'] == 1
  assert figures['latency_ms_b1'] > 0 and figures['inference_bytes_b8'] > figures['param_bytes']
  assert figures['flops_per_example'] > 2 * 50000


@pytest.mark.parametrize('optimizer', ['sgd', 'adam'])
def test_profile_counts_the_training_step_the_run_compiles(tiny_config, tmp_path, optimizer):
  """prunejax-profile's train_step_bytes is the run's: its optimizer (Adam holds two moments) included."""
  from prunejax.commands.profile import profile  # pylint: disable=g-import-not-at-top
  from prunejax.train import Run  # pylint: disable=g-import-not-at-top
  tiny_config.optimizer.update({'name': optimizer, 'learning_rate': 1e-3})
  run = Run(tiny_config, tmp_path)
  assert profile(tiny_config)['train_step_bytes'] == run.step_bytes()
  run.close()


def test_compare_criteria_refuses_an_unknown_criterion_before_training(tmp_path):
  out = run('scripts/compare_criteria.py', '--config', 'configs/smoke.py', '--workdir', str(tmp_path),
            '--criteria', 'l1,fisher')
  assert out.returncode != 0
  assert out.stderr.strip().splitlines()[-1].startswith("error: unknown criteria ['fisher']; choose among")
  assert not (tmp_path / 'checkpoints').exists()


def test_a_misspelt_config_field_is_one_line_naming_the_nearest(tmp_path):
  out = run('scripts/train.py', '--config', 'configs/smoke.py', '--workdir', str(tmp_path),
            '--config.pruning.sparsty=0.5')
  assert out.returncode != 0
  assert out.stderr.strip().splitlines()[-1] == (
      "error: config.pruning has no field 'sparsty' (from --config.pruning.sparsty); did you mean one of "
      "['sparsity']?")


def test_subpackages_load_on_first_use_after_a_bare_import():
  out = run('-c', 'import sys, prunejax; assert "prunejax.structure" not in sys.modules; '
                  'print(prunejax.structure.trace_groups.__name__, prunejax.models.create_model.__name__); '
                  'prunejax.nosuch')
  assert out.stdout.split() == ['trace_groups', 'create_model']
  assert "module prunejax has no attribute 'nosuch'; its subpackages: core, data" in out.stderr


def test_console_scripts_are_installed_and_describe_their_flags():
  bin_dir = pathlib.Path(sys.executable).parent
  # Each flag's own help text: only there if the command module's flags are listed, not just its docstring.
  for name, flag in (('train', 'Directory for checkpoints, metrics and summary.json.'),
                     ('reproduce', 'Short settings (minutes on 2 CPU cores)'), ('export', 'Runtime format.'),
                     ('profile', 'JSON output (default runs/profile/<config>.json).')):
    out = subprocess.run([str(bin_dir / f'prunejax-{name}'), '--help'], capture_output=True, text=True,
                         timeout=120, cwd=REPO)
    assert out.returncode == 0 and not out.stderr, out.stderr[-2000:]
    assert f'prunejax-{name}' in out.stdout and flag in out.stdout
    # A command that takes a config lists its fields with their defaults (from the settings classes).
    assert ('config.optimizer.learning_rate = 0.05: ' in out.stdout) == (name in ('train', 'profile'))
    # Only prunejax-train runs across processes, and says how.
    assert ('--num_processes: Multi-process runs' in out.stdout) == (name == 'train')


def test_a_run_logged_to_a_file_prints_progress_lines(tmp_path):
  out = run('scripts/train.py', '--config', 'configs/smoke.py', '--workdir', str(tmp_path),
            '--config.num_epochs=1', '--config.progress_every_seconds=0',  # stdout is a pipe here
            '--config.plots=False')
  assert out.returncode == 0, out.stderr[-2000:]
  lines = [line for line in out.stderr.splitlines() if line.startswith('train: step ')]
  assert lines and all(' epoch ' in l and (' s left' in l or l.endswith('compiling')) for l in lines)
  assert lines[0].endswith(', compiling') and 'nan' not in out.stderr  # no speed or loss before they exist
  json.loads(out.stdout)  # stdout holds the summary alone: a script can parse it
  assert any(', loss ' in l and ', accuracy ' in l and ' ms/step, ~' in l for l in lines)


@pytest.mark.parametrize('flag, what', [('--only_production', 'production grid'),
                                        ('--accuracy_models=lenet5', 'accuracy grid')])
def test_reproduce_refuses_a_reconvene_only_flag_for_another_paper(tmp_path, flag, what):
  out = run('scripts/reproduce.py', 'dynhp', flag, '--root', str(tmp_path))
  assert out.returncode != 0 and not any(tmp_path.iterdir())
  assert out.stderr.strip().splitlines()[-1] == (
      f'{flag.split("=")[0]} applies to reconvene (its {what}), not to dynhp; drop the flag.')


def test_reproduce_refuses_an_accuracy_model_outside_the_mode_before_running_anything(tmp_path):
  out = run('scripts/reproduce.py', 'reconvene', '--quick', '--accuracy_models=lenet5,resnet20',
            '--root', str(tmp_path))
  assert out.returncode != 0 and not any(tmp_path.iterdir())
  assert out.stderr.strip().splitlines()[-1] == (
      "error: accuracy model(s) ['resnet20'] are not in this mode's accuracy grid; choose from ['lenet5'].")


def test_export_prints_its_summary_and_nothing_on_stderr(tiny_config, tmp_path):
  train_and_evaluate(tiny_config, tmp_path)
  out = run('scripts/export.py', '--workdir', str(tmp_path), '--format', 'tflite', '--batch', '4')
  assert out.returncode == 0 and out.stderr == '', out.stderr[-2000:]  # no TensorFlow C++ lines
  assert json.loads(out.stdout)['source']['step'] == json.loads((tmp_path / 'summary.json').read_text())['steps']
