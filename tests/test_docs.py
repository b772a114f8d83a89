"""The docs' field tables are the settings classes' own (scripts/field_tables.py writes them)."""

import runpy

from tests.conftest import REPO


def test_every_field_table_in_the_docs_is_generated_and_current():
  tables = runpy.run_path(str(REPO / 'scripts' / 'field_tables.py'))
  assert tables['main'](['--check']) == 0, 'run: python scripts/field_tables.py'
  pages = sorted((REPO / 'docs').rglob('*.md'))
  marked = [p.name for p in pages if '<!-- fields: ' in p.read_text()]
  assert {'configs.md', 'dynhp.md', 'reconvene.md', 'adapt.md', 'edge_retrain.md'} <= set(marked)
  assert '| field | default | meaning |' not in ''.join(p.read_text() for p in pages)  # none typed by hand
