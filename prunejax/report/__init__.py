"""Reports of finished runs: plain-text tables of summaries and PNG plots drawn from metrics.jsonl."""

from prunejax.report.plots import PLOTTED, pareto_front, plot_points, plot_runs, plot_tradeoff, read_metrics
from prunejax.report.tables import markdown_table, summary_table, write_rows

__all__ = ['PLOTTED', 'markdown_table', 'pareto_front', 'plot_points', 'plot_runs', 'plot_tradeoff', 'read_metrics',
           'summary_table', 'write_rows']
