"""Pure jitted steps, the training loop, evaluation, metrics, Orbax checkpoints and data parallelism."""

from prunejax.train.checkpoints import Checkpointer
from prunejax.train.config_check import check_config
from prunejax.train.loop import Experiment, load_trained, train_and_evaluate
from prunejax.train.memory import update_step_bytes
from prunejax.train.optimizers import make_optimizer
from prunejax.train.shrinking import shrink_train_state
from prunejax.train.structured_eval import criteria_sweep, oracle_agreement, prune_channels
from prunejax.train.state import ModelDefs, TrainState, init_train_state, split_model
from prunejax.train.steps import make_eval_step, make_train_step, make_update_step

__all__ = ['Checkpointer', 'Experiment', 'ModelDefs', 'TrainState', 'check_config', 'criteria_sweep',
           'init_train_state', 'load_trained', 'make_eval_step', 'make_optimizer', 'make_train_step',
           'make_update_step', 'oracle_agreement', 'prune_channels', 'shrink_train_state', 'split_model',
           'train_and_evaluate', 'update_step_bytes']
