"""The results contract every method writes at its end: ``summary.json`` with the common keys (plus the
method's own), a final record in ``metrics.jsonl``, and ``plots/*.png``."""

import json
import math
import pathlib
from collections.abc import Callable
from typing import Any

import ml_collections

from prunejax import core, edge
from prunejax.errors import PrunejaxError
from prunejax.train import distributed
from prunejax.train.finished import finished_checkpoint
from prunejax.train.fingerprints import fingerprint
from prunejax.train.runner import Run
from prunejax.train.workdir_lock import holder


def measured_sparsity(params, include: str = core.DEFAULT_INCLUDE,
                      exclude: str = core.DEFAULT_EXCLUDE) -> dict[str, float]:
  """Zeros actually present: over the prunable leaves (``sparsity``) and over all parameters."""
  selected = core.select_leaves(params, include, exclude)
  flags = core.ones_masks(params, selected)
  measured = core.sparsity_summary(params, flags)
  return {'sparsity': measured['sparsity'], 'sparsity_all_params': measured['sparsity_all_params']}


def measure(run: Run) -> dict[str, Any]:
  """Edge profile (parameters, FLOPs, inference memory and latency), measured sparsity, step bytes.

  The step's bytes are those of the update on one batch (state + batch + temporaries), without the
  device-resident dataset, which is a property of the input pipeline rather than of the model.
  """
  state, pruning = run.state, run.config.pruning
  profile = edge.profile_model(run.apply_fn(), state.params, state.model_state, run.splits.input_shape,
                               tuple(run.config.edge.batch_sizes), repeats=5)
  return {**profile, **measured_sparsity(state.params, pruning.include, pruning.exclude),
          'train_step_bytes': run.step_bytes()}


def write_summary(run: Run, method: str, extra: dict[str, Any] | None = None,
                  check: Callable[[dict[str, Any]], None] | None = None, evaluate: bool = True
                  ) -> dict[str, Any]:
  """Evaluates and measures the current network, writes summary.json, runs the run's summary hooks (the
  plots), closes the run.

  ``check(summary)`` may add a method's warnings before it is written. ``evaluate=False`` leaves out the
  test and validation figures (an untrained network's accuracy is chance, and costs minutes on CPU).
  """
  config = run.config
  test = {}
  if evaluate:
    figures = run.evaluate(None, 'test')
    test = {'test_accuracy': figures['accuracy'], 'test_loss': figures['loss']}
  summary = {
      **test, **measure(run),
      'train_seconds': run.train_seconds, 'dataset': config.dataset, 'model': config.model,
      'method': method, 'epochs': config.num_epochs, 'steps': int(run.state.step),
      'batch_size': run.batch_size, 'num_devices': run.mesh.size,
      'peak_step_bytes': run.memory.peak_step_bytes, 'mean_step_bytes': run.memory.mean_step_bytes(),
      'examples_seen': run.examples_seen(), **(extra or {}),
  }
  if evaluate and len(run.splits.validation):
    summary.update({f'validation_{k}': v for k, v in run.evaluate(None, 'validation').items()})
  if check is not None:
    check(summary)
  if evaluate and summary['steps'] > 0:
    _warn_if_not_learned(run, summary)
  return finish(run, summary)


# A test loss this close to ln(classes), a uniform guess's, means the outputs no longer depend on the input.
NOT_LEARNED_SHARE = 0.99


def _warn_if_not_learned(run: Run, summary: dict[str, Any]) -> None:
  """Adds (and prints) a warning when the trained network's test loss is a uniform guess's: a collapsed
  run (dead ReLUs after an early blow-up) otherwise ends quietly at chance accuracy."""
  classes = run.splits.num_classes
  uniform = math.log(classes)
  if classes < 2 or summary['test_loss'] < NOT_LEARNED_SHARE * uniform:
    return
  fix = ('its mask at initialisation cut the network (said at the start): lower config.pruning.sparsity or '
         'choose another scorer' if run.notes.get('mask_collapsed') else
         'lower config.optimizer.learning_rate or set config.optimizer.warmup_epochs')
  warning = (f'{run.workdir}: the network did not learn: its test loss {summary["test_loss"]:.4f} is a uniform '
             f'guess\'s over {classes} classes (ln {classes} = {uniform:.4f}), accuracy '
             f'{summary["test_accuracy"]:.2%}; {fix}, and use a new --workdir.')
  summary['warning'] = '; '.join(filter(None, [summary.get('warning'), warning]))
  distributed.say(warning, warning=True)


def finish(run: Run, summary: dict[str, Any], own_network: bool = True) -> dict[str, Any]:
  """The one way a run ends: refuses non-finite figures, logs the final record, names the checkpoint
  holding the network the summary describes (``own_network=False``: a run whose figures come from
  another run's network, e.g. a subset's view of a shared data-agnostic run, names none), closes the
  run, writes summary.json, runs the summary hooks (the plots) and releases the workdir."""
  bad = sorted(k for k, v in summary.items() if isinstance(v, float) and not math.isfinite(v))
  if bad:
    raise PrunejaxError(f'{run.workdir}: {bad} are not finite (the run diverged); no summary written: '
                        'lower config.optimizer.learning_rate and use a new --workdir.')
  step = int(run.state.step) if own_network else 0
  # The checkpoint first: the final record comes after it, so re-running the finished run (which resumes
  # from that checkpoint) writes the record again in its place, not a second time.
  checkpoint = run.final_checkpoint() if own_network else None
  if run.log is not None:  # (None on the other processes of a multi-process run: the primary writes)
    run.log.write(step, {f'final_{k}': v for k, v in summary.items()
                         if isinstance(v, (int, float)) and not isinstance(v, bool)})
  summary['checkpoint'] = checkpoint
  run.close(release=False)
  if distributed.is_primary():
    (run.workdir / 'summary.json').write_text(json.dumps(summary, indent=2) + '\n')
    for hook in run.summary_hooks:  # e.g. the plots, drawn by the layer that opened the run
      hook(run)
  distributed.barrier('prunejax: summary written')  # no process reads the run back before the primary wrote it
  run.release()  # only now may another process see the workdir: the run is finished there
  return summary


def finished_summary(workdir: pathlib.Path, config: ml_collections.ConfigDict) -> dict | None:
  """The summary of a run of ``config`` that finished in ``workdir`` (read, not re-evaluated), else None:
  also when another process is training there, or the checkpoint the summary names is damaged (said in
  a warning; running ``config`` there again resumes from the newest intact checkpoint and rewrites it)."""
  if not (workdir / 'summary.json').exists() or not (workdir / 'checkpoints').is_dir() or holder(workdir):
    return None
  try:
    finished = finished_checkpoint(workdir)
  except PrunejaxError as e:
    distributed.say(str(e), warning=True)
    return None
  if finished.meta.get('fingerprint') != json.loads(json.dumps(fingerprint(config))):
    return None
  return finished.summary
