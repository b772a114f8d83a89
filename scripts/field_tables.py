"""Writes each settings class's field table into the docs, between
``<!-- fields: module:Class -->`` and ``<!-- end of fields -->`` (so no field is described by hand);
``--check`` only reports pages that are out of date (exit 1).

python scripts/field_tables.py [--check]
"""

import importlib
import pathlib
import re
import sys

DOCS = pathlib.Path(__file__).resolve().parents[1] / 'docs'
BLOCK = re.compile(r'(<!-- fields: (?P<name>[\w.]+:\w+) -->\n)(?P<body>.*?)(<!-- end of fields -->)', re.S)


def rendered(text: str) -> str:
  def table(match):
    module, cls = match['name'].split(':')
    return match[1] + getattr(importlib.import_module(module), cls).field_table() + '\n' + match[4]
  return BLOCK.sub(table, text)


def main(argv) -> int:
  stale = []
  for page in sorted(DOCS.rglob('*.md')):
    text = page.read_text()
    new = rendered(text)
    if new != text:
      stale.append(page)
      if '--check' not in argv:
        page.write_text(new)
  if '--check' in argv and stale:
    print(f'field tables out of date in {[str(p) for p in stale]}: run python scripts/field_tables.py',
          file=sys.stderr)
    return 1
  return 0


if __name__ == '__main__':
  sys.exit(main(sys.argv[1:]))
