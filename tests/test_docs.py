"""The docs' field tables are the settings classes' own (scripts/field_tables.py writes them)."""

import re
import subprocess
import sys

from tests.conftest import REPO


def test_every_field_table_in_the_docs_is_generated_and_current():
  # A fresh process: registries (scorers, methods) hold only what prunejax registers, not the tests' extras.
  out = subprocess.run([sys.executable, 'scripts/field_tables.py', '--check'], cwd=REPO, capture_output=True,
                       text=True, timeout=120)
  assert out.returncode == 0, out.stderr
  pages = sorted((REPO / 'docs').rglob('*.md'))
  marked = [p.name for p in pages if '<!-- fields: ' in p.read_text()]
  assert {'configs.md', 'dynhp.md', 'reconvene.md', 'adapt.md', 'edge_retrain.md'} <= set(marked)
  assert '| field | default | meaning |' not in ''.join(p.read_text() for p in pages)  # none typed by hand


def test_every_shipped_config_is_in_the_configs_table():
  table = (REPO / 'docs' / 'configs.md').read_text().split('## The configs in `configs/`')[1].split('\n## ')[0]
  named = set(re.findall(r'`([a-z0-9_{},]+\.py)`', table))
  expanded = {n for name in named for n in _braces(name)}
  assert {p.name for p in (REPO / 'configs').glob('*.py')} <= expanded, 'add the missing configs to docs/configs.md'


def _braces(name: str) -> set[str]:
  """'a_{x,y}b.py' -> {'a_xb.py', 'a_yb.py'}."""
  match = re.search(r'\{([^}]*)\}', name)
  if not match:
    return {name}
  return {n for part in match.group(1).split(',')
          for n in _braces(name[:match.start()] + part + name[match.end():])}
