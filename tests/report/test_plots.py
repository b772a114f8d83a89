from matplotlib import image

from prunejax.report import plot_points
from prunejax.report.plots import _minor_log_labels


def test_log_axes_label_minor_ticks_without_overlap():
  within, across = _minor_log_labels(within_decade=True), _minor_log_labels(within_decade=False)
  assert [within(x, None) for x in (2, 3, 7)] == ['2', '3', '7']
  assert [across(x, None) for x in (20, 30, 50, 70, 500)] == ['20', '', '50', '', '500']


def test_plot_points_writes_a_png_with_log_axes(tmp_path):
  path = plot_points({'a Reconvene': [(6.0, 1.7), (500.0, 31.0)], 'a UPaI': [(2.0, 0.9)]},
                     tmp_path / 'p.png', 'size ratio', 'speed-up', True, 'model', log_y=True)
  assert image.imread(path).shape[:2] == (420, 640)
