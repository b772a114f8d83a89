"""Publishes a reproduction's REPORT.md into the paper's documentation page, ``docs/papers/<paper>.md``.

The page holds its results between two marker lines::

    <!-- results: written by prunejax-reproduce <paper> --publish; do not edit by hand -->
    <!-- end of results -->

``publish`` replaces what lies between them with the report's tables (each under its heading) and its
plots, so every figure on the page was written by the reproduction and none is typed by hand. Each plot
smaller than ``MAX_IMAGE_BYTES`` is copied to ``docs/papers/img/<paper>/`` and its link rewritten; a
larger one is named, not copied. The block opens with one line naming the command, the mode and the
machine: runs repeat on the same machine type, not across machine types. Nothing outside the markers
changes; a page without them is refused in one line.
"""

import os
import pathlib
import platform
import re
import shutil
import tempfile

from prunejax.errors import PrunejaxError

REPO = pathlib.Path(__file__).resolve().parents[2]
END = '<!-- end of results -->'
MAX_IMAGE_BYTES = 200_000  # plots at least this large stay in the reproduction's root
_HEADING = re.compile(r'^(#{1,6})\s+(.*\S)\s*$')
_IMAGE = re.compile(r'!\[([^\]]*)\]\(([^)\s]+)\)')
_TOP_LEVEL = 3  # the report's shallowest heading becomes ### (the page's results are a ## section)


def begin_marker(paper: str) -> str:
  return f'<!-- results: written by prunejax-reproduce {paper} --publish; do not edit by hand -->'


def page_path(paper: str, docs: pathlib.Path | None = None) -> pathlib.Path:
  """``docs/papers/<paper>.md`` of this checkout (or under ``docs``)."""
  return (docs or REPO / 'docs') / 'papers' / f'{paper}.md'


def check_page(page: pathlib.Path, paper: str) -> tuple[list[str], int, int]:
  """The page's lines and the indices of its begin and end marker lines; refused in one line when the
  page, a marker or their order is missing."""
  page = pathlib.Path(page)
  if not page.is_file():
    raise PrunejaxError(f'cannot publish {paper}: {page} does not exist; create the page with the results '
                        f'markers first.')
  lines = page.read_text().splitlines()
  stripped = [line.strip() for line in lines]
  begin = begin_marker(paper)
  for marker in (begin, END):
    if stripped.count(marker) != 1:
      found = 'is missing' if marker not in stripped else 'appears more than once'
      raise PrunejaxError(f'cannot publish {paper}: the marker line {marker!r} {found} in {page}; '
                          'put exactly one begin and one end marker on lines of their own.')
  start, end = stripped.index(begin), stripped.index(END)
  if end < start:
    raise PrunejaxError(f'cannot publish {paper}: in {page} the end marker comes before the begin marker.')
  return lines, start, end


def report_blocks(text: str) -> list[tuple[str, object]]:
  """The report's headings, tables and image lines in order: ('heading', (level, title)),
  ('table', [lines]), ('image', line). Prose is left out."""
  blocks: list[tuple[str, object]] = []
  table: list[str] = []
  for line in text.splitlines() + ['']:
    if line.lstrip().startswith('|'):
      table.append(line.strip())
      continue
    if table:
      blocks.append(('table', table))
      table = []
    heading = _HEADING.match(line)
    if heading:
      blocks.append(('heading', (len(heading.group(1)), heading.group(2))))
    elif _IMAGE.search(line):
      blocks.append(('image', line.strip()))
  return blocks


def _kept(blocks: list[tuple[str, object]]) -> list[tuple[str, object]]:
  """Headings under which a table or an image follows (before the next heading of the same or a higher
  level), with those tables and images; the report's title (level 1) is left out."""
  kept = []
  for i, (kind, value) in enumerate(blocks):
    if kind != 'heading':
      kept.append((kind, value))
      continue
    level = value[0]
    if level == 1:
      continue
    for later_kind, later in blocks[i + 1:]:
      if later_kind == 'heading' and later[0] <= level:
        break
      if later_kind != 'heading':
        kept.append((kind, value))
        break
  return kept


def _image_name(source: str) -> str:
  """A flat file name for a plot's path relative to the report: plots/lenet300_10x/accuracy.png ->
  lenet300_10x_accuracy.png."""
  parts = [p for p in pathlib.PurePosixPath(source).parts if p not in ('.', '..')]
  if len(parts) > 1 and parts[0] == 'plots':
    parts = parts[1:]
  return '_'.join(parts)


def publish(report: pathlib.Path, page: pathlib.Path, paper: str, command: str, mode: str) -> dict[str, int]:
  """Replaces the results block of ``page`` with the tables and plots of ``report`` (a REPORT.md the
  reproduction wrote); returns how many tables and plots were published and how many plots were too
  large to copy."""
  report, page = pathlib.Path(report), pathlib.Path(page)
  lines, start, end = check_page(page, paper)
  if not report.is_file():
    raise PrunejaxError(f'cannot publish {paper}: {report} does not exist; run the reproduction first.')
  blocks = _kept(report_blocks(report.read_text()))
  if not any(kind == 'table' for kind, _ in blocks):
    raise PrunejaxError(f'cannot publish {paper}: {report} holds no table; nothing was published.')
  images = page.parent / 'img' / paper
  levels = [value[0] for kind, value in blocks if kind == 'heading']
  shift = _TOP_LEVEL - min(levels) if levels else 0
  counts = {'tables': 0, 'plots': 0, 'plots_not_copied': 0}
  copies: list[tuple[pathlib.Path, str]] = []

  def relink(match: re.Match) -> str:
    alt, source = match.group(1), match.group(2)
    if re.match(r'^[a-z]+://', source):
      return match.group(0)
    path = report.parent / source
    if not path.is_file():
      counts['plots_not_copied'] += 1
      return f'(plot `{source}` is missing from {report.parent})'
    if path.stat().st_size >= MAX_IMAGE_BYTES:
      counts['plots_not_copied'] += 1
      return f'(plot `{source}` not copied: {MAX_IMAGE_BYTES // 1000} kB or more; it is in {report.parent})'
    name = _image_name(source)
    copies.append((path, name))
    counts['plots'] += 1
    return f'![{alt}](img/{paper}/{name})'

  body: list[str] = []
  for kind, value in blocks:
    if kind == 'heading':
      level, title = value
      body += ['#' * min(level + shift, 6) + ' ' + title, '']
    elif kind == 'table':
      body += [_IMAGE.sub(relink, line) for line in value] + ['']
      counts['tables'] += 1
    else:
      body += [_IMAGE.sub(relink, value), '']
  machine = f'{platform.machine() or "unknown machine"}, {os.cpu_count()} CPUs'
  header = (f'Published by `{command}` from {report} ({mode} mode; machine: {machine}). Runs repeat on the '
            'same machine type, not across machine types.')
  new_lines = lines[:start + 1] + [header, ''] + body + lines[end:]
  if images.exists():
    for old in images.glob('*.png'):
      old.unlink()
  if copies:
    images.mkdir(parents=True, exist_ok=True)
    for path, name in copies:
      shutil.copyfile(path, images / name)
  _write_atomically(page, '\n'.join(new_lines) + '\n')
  return counts


def _write_atomically(path: pathlib.Path, text: str) -> None:
  with tempfile.NamedTemporaryFile('w', dir=path.parent, prefix=f'.{path.name}.', delete=False) as f:
    f.write(text)
  shutil.copymode(path, f.name)
  os.replace(f.name, path)
