"""A benchmark's output becomes its own section of benchmarks/RESULTS.md, replaced on every run."""

import sys

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / 'benchmarks'))
import results_file  # pylint: disable=wrong-import-position  (benchmarks/ is a folder of scripts)


def test_a_run_writes_and_then_replaces_its_section(tmp_path, monkeypatch):
  monkeypatch.setattr(results_file, 'RESULTS', tmp_path / 'RESULTS.md')
  monkeypatch.setattr(sys, 'argv', ['benchmarks/benchmark_toy.py', '--repeats', '3'])
  with results_file.recorded('toy'):
    print('ratio 1.02')
  results_file.write_section('other', 'ratio 7\n')
  with results_file.recorded('toy'):
    print('ratio 0.98')
  text = (tmp_path / 'RESULTS.md').read_text()
  assert text.startswith('# Benchmark results') and text.count('<!-- benchmark: toy -->') == 1
  assert 'ratio 0.98' in text and 'ratio 1.02' not in text and 'ratio 7' in text
  assert '`.venv/bin/python benchmarks/benchmark_toy.py --repeats 3` — ' in text and ' CPUs (' in text


def test_a_failed_run_leaves_the_results_alone(tmp_path, monkeypatch):
  monkeypatch.setattr(results_file, 'RESULTS', tmp_path / 'RESULTS.md')
  with pytest.raises(SystemExit), results_file.recorded('toy'):
    print('half a table')
    sys.exit(1)
  assert not (tmp_path / 'RESULTS.md').exists()
