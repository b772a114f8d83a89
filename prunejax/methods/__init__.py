"""One module per method, each reading like its paper's algorithm box, found by name (``config.method``).

``train_and_evaluate(config, workdir)`` runs any registered method; ``register_method`` adds your own.
"""

from prunejax.methods import adapt, dense, dynhp, edge_deploy, edge_retrain, reconvene, small_dense, sparse  # registers them
from prunejax.methods.criteria_sweep import criteria_sweep, load_trained, oracle_agreement, prune_channels
from prunejax.methods.registry import (METHODS, Method, check_no_pruning, method_name, open_run, register_method,
                                       train_and_evaluate)

__all__ = ['METHODS', 'Method', 'adapt', 'check_no_pruning', 'criteria_sweep', 'dense', 'dynhp', 'edge_deploy', 'edge_retrain', 'load_trained',
           'method_name', 'open_run', 'oracle_agreement', 'prune_channels', 'reconvene', 'register_method', 'small_dense', 'sparse',
           'train_and_evaluate']
