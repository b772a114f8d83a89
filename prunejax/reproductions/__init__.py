"""One-command reproductions of the papers: grids of ordinary runs summarised in a REPORT.md."""

from prunejax.reproductions import dynhp, edge_retrain, reconvene
from prunejax.reproductions.grid import Entry, base_config, paired_latency, run_grid

PAPERS = {'dynhp': dynhp.reproduce, 'edge_retrain': edge_retrain.reproduce, 'reconvene': reconvene.reproduce}

__all__ = ['Entry', 'PAPERS', 'base_config', 'dynhp', 'edge_retrain', 'paired_latency', 'reconvene', 'run_grid']
