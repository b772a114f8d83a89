import json

from matplotlib import image

from prunejax.report import plot_points, plot_runs, plots
from prunejax.report.plots import _minor_log_labels


def test_log_axes_label_minor_ticks_without_overlap():
  within, across = _minor_log_labels(within_decade=True), _minor_log_labels(within_decade=False)
  assert [within(x, None) for x in (2, 3, 7)] == ['2', '3', '7']
  assert [across(x, None) for x in (20, 30, 50, 70, 500)] == ['20', '', '50', '', '500']


def test_plot_points_writes_a_png_with_log_axes(tmp_path):
  path = plot_points({'a Reconvene': [(6.0, 1.7), (500.0, 31.0)], 'a UPaI': [(2.0, 0.9)]},
                     tmp_path / 'p.png', 'size ratio', 'speed-up', True, 'model', log_y=True)
  assert image.imread(path).shape[:2] == (420, 640)


def write_metrics(workdir, batches):
  workdir.mkdir()
  records = [{'step': 10 * i, 'train_loss': 1.0 / (i + 1), 'train_accuracy': 0.1 * i, 'batch_size': b,
              'phase': 'train' if i == 0 else None} for i, b in enumerate(batches)]
  (workdir / 'metrics.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in records))


def test_one_run_with_a_fixed_batch_gets_no_flat_batch_plot(tmp_path):
  write_metrics(tmp_path / 'fixed', [32, 32, 32])
  write_metrics(tmp_path / 'growing', [32, 64, 128])
  assert {p.name for p in plot_runs([tmp_path / 'fixed'], tmp_path / 'a')} == {'accuracy.png', 'loss.png'}
  assert 'batch_size.png' in {p.name for p in plot_runs([tmp_path / 'growing'], tmp_path / 'b')}
  both = plot_runs([tmp_path / 'fixed', tmp_path / 'growing'], tmp_path / 'c')
  assert 'batch_size.png' in {p.name for p in both}  # beside another run, a flat line compares


def test_each_plot_is_titled_with_its_runs(tmp_path, monkeypatch):
  titles = []
  monkeypatch.setattr(plots.plt.Axes, 'set_title', lambda ax, text, **kw: titles.append(text))
  write_metrics(tmp_path / 'dynhp_10x', [32, 64, 128])
  plot_runs([tmp_path / 'dynhp_10x'], tmp_path / 'out')
  assert titles and all(t.endswith(': dynhp_10x') for t in titles)
