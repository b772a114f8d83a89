"""``sparse``: unstructured pruning from ``config.pruning`` — magnitude on a schedule during training,
or a score at initialisation (SNIP, GraSP, SynFlow, random) and then training with the mask fixed."""

import math

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
  _refuse_a_schedule_past_the_end(run, pruning)
  run.optimizer = pruning.wrap(run.optimizer)
  if pruning.at_init:
    run.once('prune_at_init', lambda: _prune_at_init(run, pruning))
  run.train('train', epochs=run.config.num_epochs)
  return write_summary(run, 'sparse', pruning.summary(), check=_reached_target)


def _refuse_a_schedule_past_the_end(run: Run, pruning: Pruning) -> None:
  """A schedule whose target-reaching refresh falls after the last training step would train the whole run
  and then miss its sparsity: refused before training."""
  if pruning.schedule is None:
    return
  final = math.ceil(run.config.num_epochs * run.reference_steps_per_epoch) - 1  # steps count from 0
  last = pruning.schedule.last_refresh_step
  if last > final:
    raise PrunejaxError(f'config.pruning reaches its sparsity at step {last} (begin_step={pruning.schedule.begin_step}, '
                        f'end_step={pruning.schedule.end_step}, update_every={pruning.schedule.update_every}), '
                        f'after the run\'s last step {final} (num_epochs={run.config.num_epochs}); lower '
                        'end_step/begin_step or raise num_epochs.')


def _reached_target(summary: dict) -> None:
  """A run whose measured sparsity misses its target says so (e.g. a schedule that ends after training)."""
  if abs(summary['sparsity'] - summary['target_sparsity']) > 1e-3:
    summary['warning'] = (f'measured sparsity {summary["sparsity"]:.4f} misses the target '
                          f'{summary["target_sparsity"]}: the trained kernels\' zeros are not what the masks '
                          'prescribe; report it with the config.')
    distributed.say(summary['warning'], warning=True)


def _prune_at_init(run: Run, pruning: Pruning) -> None:
  run.state = pruning.prune_at_init(run.defs, run.state, run.splits, run.config.seed)
  run.notes['mask_collapsed'] = bool(pruning.collapsed)  # (checkpointed: a resumed run still knows why)
