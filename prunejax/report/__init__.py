"""Reports of finished runs: plain-text tables of summaries and PNG plots drawn from metrics.jsonl."""

from prunejax.report.plots import PLOTTED, plot_points, plot_runs, read_metrics
from prunejax.report.tables import markdown_table, summary_table

__all__ = ['PLOTTED', 'markdown_table', 'plot_points', 'plot_runs', 'read_metrics', 'summary_table']
