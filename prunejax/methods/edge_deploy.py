"""``edge_deploy``: the network a device receives before it re-trains — trained on the *original* part of
the data and magnitude-pruned to ``config.edge_retrain.sparsity`` on a gradual (cubic) schedule over
``prune_window`` (fractions of training). Its config is the edge re-training config reduced to the fields
that decide the deployed network, so every strategy (and shift) shares one deployment.
"""

import dataclasses
import pathlib

import ml_collections

from prunejax import data
from prunejax.errors import PrunejaxError
from prunejax.methods.edge_retrain_settings import DeploySettings
from prunejax.methods.registry import check_no_pruning, register_method, train_and_evaluate
from prunejax.train import distributed
from prunejax.train import (Checkpointer, Pruning, Run, finished_summary, fingerprint, learning_rate_schedule,
                            workdir_lock, write_summary)
from prunejax.train.checkpoints import first_difference

DEPLOY_FIELDS = tuple(f.name for f in dataclasses.fields(DeploySettings))


def check(config: ml_collections.ConfigDict) -> None:
  check_no_pruning(config)
  if 'edge_retrain' not in config:
    raise PrunejaxError('config.method=edge_deploy needs a config.edge_retrain block; start from '
                        f'{DeploySettings.example}.')
  DeploySettings.from_config(config.edge_retrain)


def deploy_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """The ``edge_deploy`` config of an edge re-training config (same model, data, recipe and seed)."""
  deployed = ml_collections.ConfigDict(config.to_dict())
  deployed.method = 'edge_deploy'
  deployed.edge_retrain = ml_collections.ConfigDict({k: config.edge_retrain[k] for k in DEPLOY_FIELDS})
  return deployed


def original_part(run: Run) -> data.View:
  cfg = run.config.edge_retrain
  original, _ = data.original_and_new(run.splits, cfg.new_fraction, run.config.seed)
  return run.add_view(original)


def refuse_another_deployment(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> None:
  """Refuses, before anything is written, a ``deployed_workdir`` whose checkpoints hold a deployment of
  another config (its training would be refused only after this run had started)."""
  if not (workdir / 'checkpoints').is_dir():
    return
  checkpointer = Checkpointer(workdir / 'checkpoints', read_only=True)
  try:
    intact = checkpointer.latest_intact()  # (a damaged newest one is said, and passed over, as a resume does)
  finally:
    checkpointer.close()
  difference = intact and first_difference(intact[1], fingerprint(deploy_config(config)))
  if difference:
    key, saved, current = difference
    raise PrunejaxError(f'config.edge_retrain.deployed_workdir={str(workdir)!r} holds a deployment trained with '
                        f'{key}={saved!r}, this config deploys with {current!r}; point deployed_workdir at a new '
                        "directory, or leave it empty for this run's own workdir/deployed.")


def deploy(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> dict:
  """The deployment's summary: read when ``workdir`` holds it finished, else trained there (resumably)."""
  deployed = deploy_config(config)
  finished = finished_summary(workdir, deployed)
  if finished is not None:
    return finished
  with workdir_lock(workdir, wait=True):  # shared by every strategy: another process may be training it
    finished = finished_summary(workdir, deployed)
    if finished is not None:
      return finished
    distributed.say(f'deploying: training and pruning {config.model} on the original data in {workdir}')
    return train_and_evaluate(deployed, workdir)


@register_method('edge_deploy', check=check)
def edge_deploy(run: Run) -> dict:
  config, cfg = run.config, run.config.edge_retrain
  original = original_part(run)
  steps_per_epoch = len(original.train) // config.batch_size
  total = steps_per_epoch * config.num_epochs
  pruning_cfg = ml_collections.ConfigDict(config.pruning.to_dict())
  # The last refresh must fall on a step that runs (the last one is total - 1).
  begin, end = int(cfg.prune_window[0] * total), min(int(cfg.prune_window[1] * total), total - 1)
  pruning_cfg.update(method='magnitude', sparsity=cfg.sparsity, schedule='polynomial', begin_step=begin,
                     end_step=end, update_every=max(1, min(config.pruning.update_every, (end - begin) // 10)))
  pruning = Pruning(pruning_cfg, run.initial_params)
  run.optimizer = pruning.wrap(run.optimizer)
  run.learning_rate = learning_rate_schedule(config.optimizer, steps_per_epoch, config.num_epochs)
  run.train('deploy', epochs=config.num_epochs, view=original)
  return write_summary(run, 'edge_deploy', {
      'target_sparsity': cfg.sparsity, 'acc_original': run.evaluate(original, 'test')['accuracy'],
      'original_train_examples': len(original.train)})
