"""prunejax: pruning neural networks for edge devices, in functional JAX with Flax NNX models.

Subpackages, imported on first use (``import prunejax`` stays cheap; ``prunejax.structure`` just works):

  core           pure functions on parameter pytrees: scores, masks, schedules, the masked optax update
  data           datasets through TFDS (offline builders included) and the in-memory input pipeline
  models         Flax NNX models by name: ``models.create_model('lenet5', (28, 28, 1), 10)``
  structure      channel groups traced from the jaxpr (``trace_groups``) and physical shrinking (``shrink``)
  train          jitted steps, the phased runner (``Run``), Orbax checkpoints, ``load(workdir)``
  methods        one module per method (dense, sparse, dynhp, reconvene, adapt, edge_retrain, ...);
                 ``train_and_evaluate(config, workdir)`` runs any of them
  edge           parameter counts, FLOPs, compiled memory and latency under a CPU thread limit
  export         StableHLO and TFLite files of a finished run, checked against JAX
  report         tables and plots of finished runs
  reproductions  one-command reproductions of the four papers
  commands       the console scripts: prunejax-train, prunejax-reproduce, prunejax-export, prunejax-profile
  configs        ``configs.load('configs/x.py')``: a config file's ConfigDict, as ``--config`` reads it
  settings       the settings classes every config block is declared and checked by
"""

import importlib

from prunejax.errors import PrunejaxError

__version__ = '0.1.0'
SUBPACKAGES = ('core', 'data', 'models', 'structure', 'train', 'methods', 'edge', 'export', 'report',
               'reproductions', 'commands', 'configs', 'settings')
__all__ = ['PrunejaxError', '__version__', *SUBPACKAGES]


def __getattr__(name: str):
  if name in SUBPACKAGES:
    return importlib.import_module(f'prunejax.{name}')  # the import binds it: later lookups skip this
  raise AttributeError(f'module prunejax has no attribute {name!r}; its subpackages: {", ".join(SUBPACKAGES)}')


def __dir__():
  return sorted(set(globals()) | set(SUBPACKAGES))
