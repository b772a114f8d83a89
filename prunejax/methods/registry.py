"""Methods by name: ``config.method`` picks one; each is a function of a ``train.Run`` returning the
summary it wrote, with an optional start-up check of its own config block."""

import dataclasses
from collections.abc import Callable
from typing import Any

import ml_collections

from prunejax.errors import PrunejaxError
from prunejax.registry import Registry
from prunejax.train import Run, add_later_default, check_config
from prunejax.train.config_check import BLOCKS


@dataclasses.dataclass(frozen=True)
class Method:
  name: str
  run: Callable[[Run], dict[str, Any]]
  check: Callable[[ml_collections.ConfigDict], None] | None = None


METHODS: Registry[Method] = Registry('method', 'config.method')


def register_method(name: str, check: Callable[[ml_collections.ConfigDict], None] | None = None,
                    later_defaults: dict[str, Any] | None = None):
  """Decorator: registers ``fn(run) -> summary`` as method ``name`` (``check(config)`` runs at start-up).
  ``later_defaults``: fields of ``config.<name>`` added after runs were written, with their defaults (at
  the default they are left out of the fingerprint, so those runs stay resumable)."""
  for field, default in (later_defaults or {}).items():
    add_later_default(name, field, default)

  def decorator(fn):
    METHODS.add(name, Method(name, fn, check))
    return fn
  return decorator


def method_name(config: ml_collections.ConfigDict) -> str:
  """``config.method``; when empty or absent, ``sparse`` if ``config.pruning`` prunes, else ``dense``."""
  name = config.get('method', '') or ''
  if name:
    return name
  return 'dense' if config.pruning.method == 'none' else 'sparse'


def train_and_evaluate(config: ml_collections.ConfigDict, workdir) -> dict[str, Any]:
  """Runs ``config``'s method in ``workdir`` (resuming from its checkpoints) and returns its summary."""
  check_config(config)
  stray = [key for key, value in config.items() if isinstance(value, ml_collections.ConfigDict)
           and key not in BLOCKS and key != 'model_kwargs' and key not in METHODS]
  if stray:
    raise PrunejaxError(f'config has blocks {stray} that no method reads (a typo?); method blocks are named '
                        f'after their method: {", ".join(METHODS.names())}.')
  method = METHODS.get(method_name(config))
  if method.check is not None:
    method.check(config)
  run = open_run(config, workdir)
  try:
    return method.run(run)
  except BaseException:
    run.close()
    raise


def open_run(config: ml_collections.ConfigDict, workdir) -> Run:
  """A ``Run`` of ``config`` in ``workdir`` that draws its plots (``config.plots``) once its summary is written."""
  run = Run(config, workdir)
  if config.get('plots', True):
    from prunejax.report import plot_runs  # pylint: disable=g-import-not-at-top  # matplotlib: only to plot
    run.summary_hooks.append(lambda finished: plot_runs([finished.workdir], finished.workdir / 'plots'))
  return run


def check_no_pruning(config: ml_collections.ConfigDict) -> None:
  """For methods that ignore ``config.pruning``: a pruning setting there would silently do nothing."""
  if config.pruning.method != 'none':
    raise PrunejaxError(f'config.method={config.method!r} does not use config.pruning, but '
                        f'config.pruning.method={config.pruning.method!r}; remove it (or use method=sparse).')
