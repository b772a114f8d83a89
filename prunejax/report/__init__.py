"""Reports of finished runs: plain-text tables of summaries and PNG plots drawn from metrics.jsonl."""

from prunejax.report.plots import PLOTTED, plot_runs, read_metrics
from prunejax.report.tables import summary_table

__all__ = ['PLOTTED', 'plot_runs', 'read_metrics', 'summary_table']
