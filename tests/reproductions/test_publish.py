"""``prunejax-reproduce <paper> --publish``: a REPORT.md's tables and plots replace the results block of
docs/papers/<paper>.md, and nothing else on the page changes."""

import pathlib

import pytest
from absl import flags
from absl.testing import flagsaver

from prunejax.errors import PrunejaxError
from prunejax.reproductions import publish
from tests.conftest import REPO

PNG = b'\x89PNG\r\n\x1a\n' + b'\0' * 64

# Shaped like the reports prunejax/reproductions/*.py write: a title, prose, ### sections with a table
# and plots in plots/<tag>/, a section of prose only, and a plot too large to copy.
REPORT = """# DynHP reproduction (prunejax, quick mode)

Our **reconstruction** of DynHP. Regenerate: `python scripts/reproduce.py dynhp --quick`.

### lenet300, target compression 10x

| variant | test error | vs dense (pp) |
| --- | --- | --- |
| dense | 10.00% | +0.00 |
| dynhp | 11.00% | +1.00 |

DynHP: 6 prunes, final units {'a': 29}, batch 767.

![accuracy](plots/lenet300_10x/accuracy.png)
![params](plots/lenet300_10x/params.png)
![loss](plots/lenet300_10x/loss.png)

### Prose only

Nothing tabulated here.

### Ablation: unit score

| unit score | test accuracy |
| --- | --- |
| l1 | 88.00% |
"""

BEFORE = 'Intro, written by hand.\n\n## Results\n\n'
AFTER = '\n\n## After the results\n\nMore hand-written text.\n'


def page_text(paper: str, inside: str) -> str:
  return f'{BEFORE}{publish.begin_marker(paper)}\n{inside}\n{publish.END}{AFTER}'


@pytest.fixture
def reproduction(tmp_path) -> tuple[pathlib.Path, pathlib.Path]:
  """A fake REPORT.md with its plots, and a page whose results block holds an old figure."""
  root = tmp_path / 'runs' / 'dynhp_quick'
  (root / 'plots' / 'lenet300_10x').mkdir(parents=True)
  (root / 'REPORT.md').write_text(REPORT)
  (root / 'plots' / 'lenet300_10x' / 'accuracy.png').write_bytes(PNG)
  (root / 'plots' / 'lenet300_10x' / 'params.png').write_bytes(PNG + b'p')
  (root / 'plots' / 'lenet300_10x' / 'loss.png').write_bytes(b'\0' * publish.MAX_IMAGE_BYTES)
  page = tmp_path / 'docs' / 'papers' / 'dynhp.md'
  page.parent.mkdir(parents=True)
  page.write_text(page_text('dynhp', 'an old figure: 99.99%'))
  stale = page.parent / 'img' / 'dynhp' / 'stale.png'
  stale.parent.mkdir(parents=True)
  stale.write_bytes(PNG)
  return root / 'REPORT.md', page


def test_markers_replaced_and_the_rest_untouched(reproduction):
  report, page = reproduction
  counts = publish.publish(report, page, 'dynhp', 'prunejax-reproduce dynhp --quick --publish', 'quick')
  text = page.read_text()
  assert text.startswith(BEFORE + publish.begin_marker('dynhp') + '\n')
  assert text.endswith(publish.END + AFTER)
  block = text[len(BEFORE):-len(AFTER)]
  assert '99.99%' not in block  # the old content is gone
  header = block.splitlines()[1]
  assert header.startswith('Published by `prunejax-reproduce dynhp --quick --publish` from ')
  assert '(quick mode; machine: ' in header and 'CPUs' in header
  assert '| dynhp | 11.00% | +1.00 |' in block and '| l1 | 88.00% |' in block
  # Headings of tables and plots, the shallowest at ###; the title, prose and a prose-only section left out.
  assert '### lenet300, target compression 10x' in block and '### Ablation: unit score' in block
  assert 'Prose only' not in block and 'reconstruction' not in block and 'DynHP: 6 prunes' not in block
  assert '# DynHP reproduction' not in block
  assert counts == {'tables': 2, 'plots': 2, 'plots_not_copied': 1}
  # Publishing again gives the same page.
  publish.publish(report, page, 'dynhp', 'prunejax-reproduce dynhp --quick --publish', 'quick')
  assert page.read_text() == text


def test_plots_copied_and_relinked(reproduction):
  report, page = reproduction
  publish.publish(report, page, 'dynhp', 'prunejax-reproduce dynhp --publish', 'full')
  text = page.read_text()
  images = page.parent / 'img' / 'dynhp'
  assert sorted(p.name for p in images.iterdir()) == ['lenet300_10x_accuracy.png', 'lenet300_10x_params.png']
  assert (images / 'lenet300_10x_accuracy.png').read_bytes() == PNG  # the stale plot is gone
  assert '![accuracy](img/dynhp/lenet300_10x_accuracy.png)' in text
  assert '![params](img/dynhp/lenet300_10x_params.png)' in text
  assert 'plots/lenet300_10x/accuracy.png' not in text
  assert '![loss]' not in text and '`plots/lenet300_10x/loss.png` not copied' in text  # too large: named
  assert '(full mode;' in text


@pytest.mark.parametrize('broken', ['no begin', 'no end', 'reversed', 'other paper', 'twice'])
def test_a_page_without_its_markers_is_refused(reproduction, broken):
  report, page = reproduction
  begin, end = publish.begin_marker('dynhp'), publish.END
  text = {'no begin': f'{BEFORE}{end}\n', 'no end': f'{BEFORE}{begin}\n',
          'reversed': f'{end}\n{begin}\n', 'other paper': page_text('adapt', ''),
          'twice': page_text('dynhp', begin)}[broken]
  page.write_text(text)
  with pytest.raises(PrunejaxError, match='cannot publish dynhp') as error:
    publish.publish(report, page, 'dynhp', 'prunejax-reproduce dynhp --publish', 'full')
  assert '\n' not in str(error.value)
  assert page.read_text() == text


def test_a_missing_page_is_refused_before_the_reproduction_runs(tmp_path, monkeypatch):
  from prunejax.commands import reproduce  # pylint: disable=import-outside-toplevel
  ran = []
  monkeypatch.setattr(publish, 'page_path', lambda paper: tmp_path / f'{paper}.md')
  monkeypatch.setitem(reproduce.PAPERS, 'dynhp', lambda *args, **kwargs: ran.append(args))
  if not flags.FLAGS.is_parsed():
    flags.FLAGS.mark_as_parsed()
  with flagsaver.flagsaver(publish=True, root=str(tmp_path / 'runs')):
    with pytest.raises(PrunejaxError, match='does not exist'):
      reproduce.main(['prunejax-reproduce', 'dynhp'])
  assert not ran


@pytest.mark.parametrize('paper', ['dynhp', 'reconvene', 'edge_retrain', 'adapt'])
def test_every_paper_page_has_its_results_block(paper):
  lines, start, end = publish.check_page(publish.page_path(paper), paper)
  assert publish.page_path(paper) == REPO / 'docs' / 'papers' / f'{paper}.md'
  inside = [line for line in lines[start + 1:end] if line.strip()]
  assert inside == [f'Not yet published from this checkout: run `prunejax-reproduce {paper} --quick --publish`.'] \
      or inside[0].startswith('Published by `prunejax-reproduce')
