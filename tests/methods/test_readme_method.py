"""The README's example of a user's method runs as written, and resumes."""

import json
import re

from prunejax import methods
from tests.conftest import REPO


def readme_method_source() -> str:
  text = (REPO / 'README.md').read_text()
  return re.search(r'<!-- user-method -->\n```python\n(.*?)```', text, re.S).group(1)


def test_readme_user_method_runs_and_shrinks(tiny_config, tmp_path):
  source = readme_method_source()
  assert len(source.splitlines()) < 40
  if 'l1_then_finetune' not in methods.METHODS:
    exec(compile(source, 'README.md', 'exec'), {'__name__': 'readme_method'})  # pylint: disable=exec-used
  tiny_config.method = 'l1_then_finetune'
  summary = methods.train_and_evaluate(tiny_config, tmp_path)
  assert summary['params_total'] == summary['params_after_prune'] < 50610 / 2
  assert summary['test_accuracy'] > 0.5
  phases = [json.loads(line).get('phase') for line in (tmp_path / 'metrics.jsonl').read_text().splitlines()]
  assert [p for p in phases if p] == ['pretrain', 'finetune']
  again = methods.train_and_evaluate(tiny_config, tmp_path)  # complete: replayed, not retrained
  assert again['test_accuracy'] == summary['test_accuracy'] and again['steps'] == summary['steps']
