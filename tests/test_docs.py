"""The docs' field tables are the settings classes' own (scripts/field_tables.py writes them)."""

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
