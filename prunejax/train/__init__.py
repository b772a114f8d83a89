"""Pure jitted steps, the phase runner, evaluation, metrics, Orbax checkpoints and data parallelism."""

from prunejax.train.checkpoints import Checkpointer
from prunejax.train.config_check import check_config
from prunejax.train.cursor import Cursor
from prunejax.train.finished import FinishedRun, finished_checkpoint
from prunejax.train.loading import load, load_serving, network_of, serving_fn
from prunejax.train.memory import update_step_bytes
from prunejax.train.optimizers import freeze_all_but, learning_rate_schedule, make_optimizer, set_learning_rate
from prunejax.train.pruning import Pruning
from prunejax.train.results import finish, finished_summary, measure, measured_sparsity, write_summary
from prunejax.train.fingerprints import add_later_default, fingerprint
from prunejax.train.runner import LR_SCALING, Run
from prunejax.train.shrinking import shrink_train_state
from prunejax.train.state import ModelDefs, TrainState, init_train_state, split_model
from prunejax.train.steps import apply_model, cross_entropy, make_eval_step, make_train_step, make_update_step
from prunejax.train.workdir_lock import workdir_lock

__all__ = ['LR_SCALING', 'Checkpointer', 'add_later_default', 'Cursor', 'FinishedRun', 'finished_checkpoint', 'ModelDefs', 'Pruning', 'Run', 'TrainState', 'apply_model',
           'check_config', 'cross_entropy', 'finish', 'finished_summary', 'fingerprint', 'freeze_all_but', 'init_train_state', 'learning_rate_schedule', 'load', 'load_serving',
           'make_eval_step', 'make_optimizer', 'make_train_step', 'make_update_step', 'measure', 'network_of',
           'measured_sparsity', 'serving_fn', 'set_learning_rate', 'shrink_train_state', 'split_model', 'update_step_bytes',
           'write_summary', 'workdir_lock']
