"""``sparse``: unstructured pruning from ``config.pruning`` — magnitude on a schedule during training,
or a score at initialisation (SNIP, GraSP, SynFlow, random) and then training with the mask fixed."""


import ml_collections

from prunejax.errors import PrunejaxError
from prunejax.methods.registry import register_method
from prunejax.train import distributed
from prunejax.train import Pruning, Run, write_summary


def check(config: ml_collections.ConfigDict) -> None:
  if config.pruning.method == 'none':
    raise PrunejaxError('config.method=sparse needs config.pruning.method (magnitude, snip, grasp, '
                        'synflow, random); for no pruning use method=dense.')


@register_method('sparse', check=check)
def sparse(run: Run) -> dict:
  pruning = Pruning(run.config.pruning, run.initial_params)
  run.optimizer = pruning.wrap(run.optimizer)
  if pruning.at_init:
    run.once('prune_at_init', lambda: _prune_at_init(run, pruning))
  run.train('train', epochs=run.config.num_epochs)
  return write_summary(run, 'sparse', pruning.summary(), check=_reached_target)


def _reached_target(summary: dict) -> None:
  """A run whose measured sparsity misses its target says so (e.g. a schedule that ends after training)."""
  if abs(summary['sparsity'] - summary['target_sparsity']) > 1e-3:
    summary['warning'] = (f'measured sparsity {summary["sparsity"]:.4f} misses the target '
                          f'{summary["target_sparsity"]}: does config.pruning.end_step fall within training?')
    distributed.say(summary['warning'], warning=True)


def _prune_at_init(run: Run, pruning: Pruning) -> None:
  run.state = pruning.prune_at_init(run.defs, run.state, run.splits, run.config.seed)
