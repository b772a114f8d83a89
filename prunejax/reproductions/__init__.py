"""One-command reproductions of the papers: grids of ordinary runs summarised in a REPORT.md."""

from prunejax.reproductions import adapt, dynhp, edge_retrain, reconvene
from prunejax.reproductions.grid import Entry, base_config, paired_latency, run_grid

PAPERS = {'adapt': adapt.reproduce, 'dynhp': dynhp.reproduce, 'edge_retrain': edge_retrain.reproduce, 'reconvene': reconvene.reproduce}

__all__ = ['Entry', 'PAPERS', 'adapt', 'base_config', 'dynhp', 'edge_retrain', 'paired_latency', 'reconvene', 'run_grid']
