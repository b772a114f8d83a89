"""The phase runner: the one impure driver of a run whose network, batch size or data change mid-run.

A method is plain Python over a ``Run``: ``run.train(...)`` phases (a number of epochs or steps on a data
view, with an *event point* every ``k`` steps and at the phase end where the method may ``shrink`` the
network or ``set_batch_size``) and ``run.once(...)`` actions between them (score, shrink, re-initialise).
The runner owns the rest: jitted steps compiled once per (architecture, batch size, view, optimizer,
schedule, loss), validation each epoch, metrics, progress, Orbax checkpoints.

Resuming is replay: re-running the method's code skips every operation the latest checkpoint has
finished (returning its recorded result) and continues inside the one it was in, bit-identically. A
checkpoint records what rebuilds the shapes — channels kept per group, cumulative from the config's
model — with the batch size, the data cursors and the operation log. Rule for methods: touch
``run.state`` only inside operations (``once`` functions and event handlers), and set ``run.optimizer``,
``run.learning_rate`` and ``run.loss`` outside them, the same way on every replay.
"""

import collections
import contextlib
import json
import math
import os
import pathlib
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from flax import nnx

from prunejax import data as data_lib
from prunejax import core, structure
from prunejax.errors import PrunejaxError
from prunejax.models import create_model
from prunejax.train import compile_cache, distributed, sharding
from prunejax.train.checkpoints import Checkpointer, digest, state_digest
from prunejax.train.cursor import Cursor
from prunejax.train.device_data import DeviceData
from prunejax.train.fingerprints import fingerprint
from prunejax.train.compiled_steps import CompiledSteps
from prunejax.train.memory_account import MemoryAccount
from prunejax.train.metrics_log import MetricsLog
from prunejax.train.op_log import OpLog
from prunejax.train.optimizers import learning_rate_schedule, make_optimizer
from prunejax.train.progress import Progress
from prunejax.train.shrinking import shrink_train_state
from prunejax.train.state import ModelDefs, TrainState, init_train_state, split_model
from prunejax.train.steps import apply_model, cross_entropy, make_eval_step, make_train_step
from prunejax.train.workdir_lock import workdir_lock

LR_SCALING = ('none', 'linear', 'sqrt')
# The run's state a metrics record carries when it changes (checkpointed: a resume does not repeat it).
LOGGED_STATE = ('phase', 'view', 'params', 'batch_size')


class Run:
  """One run of a method: data and views on the device, the network, its training state and the log."""

  def __init__(self, config: ml_collections.ConfigDict, workdir: str | pathlib.Path, announce: bool = True,
               lock: bool = True, checkpoint: tuple[int, dict] | None = None):
    """``lock``: hold the workdir for this process until ``close`` (False: read a run only — no metrics
    log, checkpoints opened read-only — so a reader never disturbs a process training there).
    ``checkpoint``: (number, record) of an already verified checkpoint to start from instead of the newest
    intact one (a reader taking exactly the checkpoint a summary describes)."""
    self.config = config
    self.workdir = pathlib.Path(workdir)
    self.read_only = not lock
    # Called with the run once its summary.json is written (before the workdir is released): what a
    # layer above adds to the results, e.g. the plots.
    self.summary_hooks: list[Callable[['Run'], None]] = []
    self._checkpointer = None
    self.log = None
    created = not self.workdir.exists()
    try:
      self.workdir.mkdir(parents=True, exist_ok=True)
      if not os.access(self.workdir, os.W_OK | os.X_OK):
        raise PermissionError(self.workdir)
    except OSError as e:
      raise PrunejaxError(f'--workdir {self.workdir} cannot be written ({type(e).__name__}); pick a '
                          'writable directory.') from e
    self._lock = contextlib.ExitStack()
    if lock:
      self._lock.enter_context(workdir_lock(self.workdir))
    try:
      self._set_up(config, announce, checkpoint)
    except BaseException:
      self.close()  # Orbax's threads, the log files and the lock: nothing outlives a refused run
      with contextlib.suppress(OSError):  # (never hiding the refusal itself)
        if created and [p.name for p in self.workdir.iterdir()] == ['.lock']:
          (self.workdir / '.lock').unlink()  # nor a workdir that holds nothing but the lock it made
          self.workdir.rmdir()
      raise

  def _set_up(self, config: ml_collections.ConfigDict, announce: bool, checkpoint: tuple[int, dict] | None
              ) -> None:
    compile_cache.enable()
    self.mesh = sharding.data_mesh(config.num_devices)
    sharding.check_batch_divisible(config.batch_size, self.mesh)
    sharding.check_batch_divisible(config.eval_batch_size, self.mesh, 'config.eval_batch_size')
    arrays = data_lib.load_dataset(config.dataset, config.data_dir, config.manual_dir, config.download)
    self.splits = data_lib.make_splits(arrays, config.validation_fraction, config.classes,
                                       config.remap_labels)
    self.data = DeviceData(self.splits, self.mesh, config.get('input_pipeline', 'device'))
    self.default_view = self.add_view(data_lib.full_view(self.splits))
    self.mean, self.std = self.data.mean, self.data.std
    # The network the config builds; shrinking is recorded against its channels.
    self.base_defs, self._base_params, self._base_model_state = split_model(self.new_model())
    self.defs = self.base_defs
    self.keep: dict[str, np.ndarray] = {}
    self.batch_size = config.batch_size
    self.reference_steps_per_epoch = len(self.splits.train) // config.batch_size
    if self.reference_steps_per_epoch == 0:
      raise PrunejaxError(f'config.batch_size={config.batch_size} exceeds the {len(self.splits.train)} '
                          'training examples; lower it.')
    # What a method may replace (outside operations): optimizer, schedule (in reference steps: examples
    # seen / config.batch_size), its scaling with the batch size, and the loss.
    self.optimizer = make_optimizer(config.optimizer)
    self.learning_rate = learning_rate_schedule(config.optimizer, self.reference_steps_per_epoch,
                                                config.num_epochs)
    self.lr_scaling = 'none'
    self.loss = cross_entropy
    self.compiled = CompiledSteps(self.data, config.augment, config.eval_batch_size, self.splits.input_shape)
    self._groups: dict[Any, list[structure.Group]] = {}
    self._state: TrainState | None = None
    self.cursors: dict[str, Cursor] = {}
    self.fingerprint = fingerprint(config)
    # Every process looks before any saves (a save waits for all processes; a look must not see another's).
    distributed.barrier('prunejax: looking for checkpoints')
    intact = checkpoint or (self.checkpointer.latest_intact() if (self.workdir / 'checkpoints').exists() else None)
    self._saved_number, self._saved = intact if intact else (None, None)
    self._latest = (self._saved_number, self._saved)  # the newest checkpoint written or read: what holds the state
    own_config = checkpoint is not None and json.loads(json.dumps(config.to_dict())) == self._saved['config']
    if self._saved is not None and not own_config:  # (a reader built from the checkpoint's own config is it)
      self.checkpointer.check_fingerprint(self._saved, self.fingerprint, self._saved_number)
    self.ops = OpLog(self._saved, self._saved_number)
    self._phase: dict | None = None  # the phase in progress (JSON), as checkpointed
    self.train_seconds = float(self._saved['train_seconds']) if self._saved else 0.0
    if not self.read_only and distributed.is_primary():  # (the other processes of a run write nothing)
      # A fresh start keeps no record (a run that diverged before its first checkpoint left some).
      records = self._saved.get('log', {}).get('records') if self._saved else 0
      self.log = MetricsLog(self.workdir, resume_step=self._saved['step'] if self._saved else 0,
                            resume_records=records)
    # What the log last said of the run's state (a resumed run's first record repeats none of it).
    self._logged: dict[str, Any] = dict((self._saved or {}).get('log', {}).get('state', {}))
    # Method state that lives with the checkpoint (JSON; write it inside operations), and the run's
    # training-memory account: peak and examples-weighted sum of the compiled step bytes.
    self.notes: dict[str, Any] = {}
    self.memory = MemoryAccount()
    if self._saved is not None:
      self._adopt_saved_record()
    # (a reader of a finished run resumes nothing; the other processes of a run say nothing)
    if self._saved and announce and not self.read_only and distributed.is_primary():
      print(f'{self.workdir}: resuming from step {self._saved["step"]} ({len(self.ops.results)} operations '
            'done; finished ones are replayed from the checkpoint, not re-run)', file=sys.stderr, flush=True)

  # ---- the network and its state -------------------------------------------------------------------

  def new_model(self, seed: int | None = None):
    """A fresh instance of the config's model (its initialisers; the config's seed unless given)."""
    c = self.config
    return create_model(c.model, self.splits.input_shape, self.splits.num_classes,
                        c.seed if seed is None else seed, **c.model_kwargs.to_dict())

  @property
  def checkpointer(self) -> Checkpointer:
    """The run's Orbax checkpoints (the directory is created on first use, so a run refused at start-up
    leaves none)."""
    if self._checkpointer is None:
      self._checkpointer = Checkpointer(self.workdir / 'checkpoints',
                                        max_to_keep=self.config.get('keep_checkpoints', 2),
                                        read_only=self.read_only)
    return self._checkpointer

  @property
  def initial_params(self):
    """The parameters of the config's network at initialisation (shapes and selection for methods)."""
    return self._base_params

  @property
  def state(self) -> TrainState:
    """The current training state: restored from the run's checkpoint (the newest intact one, or the one it
    was opened at) or initialised, on first use."""
    if self._state is None:
      self._state = self._restore_or_init()
    return self._state

  @state.setter
  def state(self, value: TrainState) -> None:
    self._state = sharding.replicate(value, self.mesh)

  def _fresh_state(self) -> TrainState:
    return init_train_state(self._base_params, self._base_model_state, self.optimizer, self.config.seed)

  def _saved_architecture(self):
    """(defs, params, model_state, keep) of the config's model shrunk as the chosen checkpoint records."""
    keep = {name: np.asarray(indices) for name, indices in self._saved['keep'].items()}
    if not keep:
      return self.base_defs, self._base_params, self._base_model_state, keep
    # outputs=True: a recorded keep was checked when it was made (it may cut a head's classes).
    return (*split_model(structure.shrink(self.new_model(), keep, self.base_groups(), outputs=True)), keep)

  def saved_network(self) -> tuple[ModelDefs, Any, Any]:
    """(defs, params, model_state) of the run's checkpoint (as ``state``), without its optimizer state: a
    finished run's network for measurement, whatever optimizer its method used."""
    if self._saved is None:
      raise PrunejaxError(f'{self.workdir} has no checkpoint; run the config first.')
    defs, params, model_state, _ = self._saved_architecture()
    abstract = jax.eval_shape(lambda: {'params': params, 'model_state': model_state})
    network = self.checkpointer.restore_network(abstract, self._saved_number)
    return defs, network['params'], network['model_state']

  def use_saved_network(self) -> None:
    """Makes the run's checkpointed network the current state, with a fresh state of ``run.optimizer``:
    a finished run's network to measure or prune further, whatever optimizer its method trained it with."""
    defs, params, model_state = self.saved_network()
    state = init_train_state(params, model_state, self.optimizer, self.config.seed)
    self.defs = defs
    self.state = state.replace(step=jnp.asarray(self._saved['step'], jnp.int32),
                               examples_seen=jnp.asarray(self.memory.examples, jnp.int32))

  def _restore_or_init(self) -> TrainState:
    if self._saved is None:
      return sharding.replicate(self._fresh_state(), self.mesh)
    params, model_state = self._saved_shapes
    abstract = jax.eval_shape(lambda: init_train_state(params, model_state, self.optimizer, self.config.seed))
    # Restored replicated over this run's mesh, whatever device or process count saved it.
    target = sharding.replicated(self.mesh)
    abstract = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=target), abstract)
    state, _ = self.checkpointer.restore(abstract, self.fingerprint, self._saved_number)
    return sharding.replicate(state, self.mesh)

  def _adopt_saved_record(self) -> None:
    """Architecture, batch size, cursors, notes and memory account from the chosen checkpoint's record,
    at construction (they do not depend on the optimizer): only the arrays are restored lazily."""
    meta = self._saved
    defs, params, model_state, keep = self._saved_architecture()
    self.defs, self.keep, self.batch_size = defs, keep, int(meta['batch_size'])
    self._saved_shapes = (params, model_state)
    self.cursors = {name: Cursor(**c) for name, c in meta['cursors'].items()}
    self.notes, self.memory = dict(meta['notes']), MemoryAccount(**meta['memory'])

  def base_groups(self) -> list[structure.Group]:
    return self._traced(self.base_defs, self._base_params, self._base_model_state)

  def groups(self) -> list[structure.Group]:
    """The channel groups of the current network (traced once per architecture)."""
    return self._traced(self.defs, self.state.params, self.state.model_state)

  def _traced(self, defs, params, model_state):
    if defs.eval not in self._groups:
      model = nnx.merge(defs.eval, params, model_state)
      x = jnp.zeros((1,) + self.splits.input_shape, jnp.float32)
      self._groups[defs.eval] = structure.trace_groups(model, x)
    return self._groups[defs.eval]

  def model(self):
    """The current network as an NNX model in eval mode (a copy: changing it changes nothing here)."""
    return nnx.merge(self.defs.eval, self.state.params, self.state.model_state)

  def shrink(self, keep: Mapping[str, Sequence[int]], outputs: bool = False) -> None:
    """Keeps ``keep[group]`` channels (indices into the *current* network's group) of each named group:
    params, BatchNorm statistics, optimizer state and masks shrink together (``outputs``: a classifier
    head's classes may be cut too). Call inside an operation."""
    groups = self.groups()
    sizes = {g.name: g.size for g in groups}
    self.defs, self.state = shrink_train_state(self.defs, self.state, groups, keep, outputs)
    for name, indices in keep.items():
      indices = np.asarray(indices)
      indices = np.flatnonzero(indices) if indices.dtype == bool else np.unique(indices)
      before = self.keep.get(name, np.arange(sizes[name]))
      self.keep[name] = before[indices]

  def set_batch_size(self, batch_size: int) -> None:
    """The batch size of the following steps (a multiple of the device count). Call inside an operation."""
    sharding.check_batch_divisible(batch_size, self.mesh, 'batch size')
    self.batch_size = int(batch_size)

  def phase_steps(self) -> int:
    """Steps done in the phase in progress (what an event handler counts on)."""
    return self._phase['steps'] if self._phase else 0

  def examples_seen(self) -> int:
    """Training examples processed so far in this run (host-side: no device sync)."""
    return self.memory.examples

  def params_count(self) -> int:
    return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(self.state.params))

  # ---- data --------------------------------------------------------------------------------------

  def add_view(self, view: data_lib.View) -> data_lib.View:
    """Registers a data view (its arrays go to the device once); returns it."""
    return self.data.add(view)

  def device_split(self, view: data_lib.View | None = None, split: str = 'train'):
    """(images, labels) of a view's split as the steps read it: on the device (uint8 images), or host
    arrays with the streaming pipeline."""
    return self.data.split(view or self.default_view, split)

  def batches(self, view: data_lib.View | None, num_examples: int, batch_size: int, seed: int = 0,
              split: str = 'train'):
    """``num_examples`` normalised (x, y) batches of a view's split, in a seeded random order."""
    return self.data.batches(view or self.default_view, num_examples, batch_size, seed, split)

  # ---- operations --------------------------------------------------------------------------------

  def once(self, name: str, fn: Callable[[], Any]) -> Any:
    """Runs ``fn()`` (which may change the state) once per run: on a replay it is skipped and its
    recorded result returned. The result must be JSON (None, numbers, strings, lists, dicts)."""
    index = self.ops.begin(name)
    if self.ops.finished(index):
      return self.ops.results[index]
    _ = self.state
    result = json.loads(json.dumps(fn()))
    self.ops.record(name, result)
    self._save()
    return result

  def train(self, name: str, *, epochs: float | None = None, steps: int | None = None,
            view: data_lib.View | None = None, every: int = 0,
            on_event: Callable[['Run'], None] | None = None) -> dict[str, Any]:
    """Trains ``epochs`` (of the view's training split) or ``steps``; calls ``on_event(run)`` every
    ``every`` steps and at the end. Returns the phase's last validation (and train) figures."""
    if (epochs is None) == (steps is None):
      raise PrunejaxError(f'phase {name!r}: give epochs or steps, not both or neither.')
    index = self.ops.begin(name)
    if self.ops.finished(index):
      return self.ops.results[index]
    view = self.add_view(view or self.default_view)
    state = self.state  # restores on a resume
    n = len(view.train)
    cursor = self.cursors.setdefault(view.name, Cursor())
    self._phase = self.ops.resume_phase(index) or {'name': name, 'view': view.name, 'steps': 0,
                                                   'start': cursor.position(n), 'start_step': int(state.step)}
    if self.batch_size > n:
      raise PrunejaxError(f'phase {name!r}: batch size {self.batch_size} exceeds the {n} training '
                          f'examples of view {view.name!r}.')
    done = lambda: (self._phase['steps'] >= steps if steps is not None else
                    cursor.position(n) >= self._phase['start'] + epochs - 1e-9)
    estimate = steps if steps is not None else int(round(epochs * (n // self.batch_size)))
    images, labels = self.data.split(view, 'train')
    started, pending, last_epoch_eval = time.perf_counter(), [], {}
    progress = Progress(name, estimate, self._phase['steps'], self.config.progress_bar,
                        self.config.progress_every_seconds, desc=f'{name}: {self.config.model} on {view.name}',
                        show=distributed.is_primary())
    self._write(int(state.step), {}, view)
    # Looked up again only when an event changes the network or the batch (the lookups hash the graph).
    train_step, step_bytes = self._start_steps(view)
    while not done():
      indices, epoch_ended = cursor.take(self.config.seed, n, self.batch_size)
      if self.data.streaming:
        batch = (*self.data.batch(view, 'train', indices), None)
      else:
        batch = (images, labels, self.compiled.batch_rows(indices))
      self._state, metrics = train_step(self._state, *batch)
      pending.append(metrics)
      self.memory.add(step_bytes, len(indices))  # the memory account: this step's compiled bytes
      self._phase['steps'] += 1
      step = int(self._phase['start_step'] + self._phase['steps'])
      record = {}
      if step % self.config.log_every_steps == 0 or epoch_ended:
        record = self._averaged(pending, step)
        pending = []
      if epoch_ended:
        record['epoch'] = cursor.epoch
        if len(view.validation):
          last_epoch_eval = {f'validation_{k}': v for k, v in self.evaluate(view, 'validation').items()}
          record.update(last_epoch_eval)
      if record:
        self._write(step, record, view)
      logged = self._logged.get('train', {})
      progress.update(self._phase['steps'], f'epoch {cursor.position(n):.2f}, batch {self.batch_size}',
                      logged.get('train_loss'), logged.get('train_accuracy'))
      changed = False
      if on_event is not None and ((every and self._phase['steps'] % every == 0) or done()):
        before = (self.defs, self.batch_size)
        on_event(self)
        changed = (self.defs, self.batch_size) != before
        if changed:
          train_step, step_bytes = self._start_steps(view)
          self._write(step, {}, view)
          if epochs is not None:  # a new batch size: the phase's remaining epochs take another step count
            left = self._phase['start'] + epochs - cursor.position(n)
            progress.total = self._phase['steps'] + max(0, int(round(left * n / self.batch_size)))
          progress.recompiling()
      self.train_seconds += time.perf_counter() - started
      started = time.perf_counter()
      if done():
        break
      if changed or step % self.config.checkpoint_every_steps == 0:
        self._check_finite(pending)
        self._save()
    progress.close()
    self._check_finite(pending)
    jax.block_until_ready(self._state)
    result = {'steps': self._phase['steps'], **last_epoch_eval, **self._logged.get('train', {})}
    self._phase = None
    self.ops.record(name, result)
    self._save()
    return result

  # ---- compiled functions ----------------------------------------------------------------------------

  def compiled_train_step(self, view: data_lib.View | None = None):
    """(the current network's jitted train step for ``view`` at the current batch size, ``prime``), cached:
    the step uses the learning rate the state holds and stores the next; ``prime(state)`` sets the first."""
    view = self.add_view(view or self.default_view)
    return self.compiled.train_step(self.defs, self.batch_size, view, self.optimizer,
                                    self._learning_rate_at, (id(self.learning_rate), self.lr_scaling),
                                    self.loss)

  def _start_steps(self, view: data_lib.View):
    """(train step, its compiled bytes) for the current network and batch, with the state primed with
    the step's first learning rate."""
    train_step, prime = self.compiled_train_step(view)
    self._state = prime(self._state)
    return train_step, self.step_bytes()

  @property
  def compiles(self) -> collections.Counter:
    """Train steps compiled per (architecture, batch size)."""
    return self.compiled.compiles

  def _learning_rate_at(self):
    if self.lr_scaling not in LR_SCALING:
      raise PrunejaxError(f'lr_scaling={self.lr_scaling!r} must be one of {LR_SCALING}.')
    ratio = self.batch_size / self.config.batch_size
    scale = {'none': 1.0, 'linear': ratio, 'sqrt': math.sqrt(ratio)}[self.lr_scaling]
    schedule, reference = self.learning_rate, self.config.batch_size
    if scale == 1.0:
      return lambda seen: schedule(seen.astype(jnp.float32) / reference)
    return lambda seen: schedule(seen.astype(jnp.float32) / reference) * scale

  def evaluate(self, view: data_lib.View | None = None, split: str = 'test',
               network: tuple[ModelDefs, TrainState] | None = None, per_class: bool = False) -> dict[str, Any]:
    """Loss and accuracy on a view's split (default: the whole dataset) of the current network, or of
    another ``network`` = (defs, state), e.g. a shrunk copy; compiled once per architecture. With
    ``per_class``, also ``class_correct`` and ``class_count`` (lists over the classifier's classes)."""
    view = self.add_view(view or self.default_view)
    defs, state = network if network is not None else (self.defs, self.state)
    return self.compiled.evaluate(defs, state, view, split, per_class)

  def step_bytes(self, batch_size: int | None = None) -> int:
    """XLA's compiled bytes of one update of the current network at ``batch_size`` (default: the
    current batch), without the dataset; cached per (architecture, batch, optimizer, loss)."""
    return self.compiled.step_bytes(self.defs, self.state, batch_size or self.batch_size, self.optimizer,
                                    self.loss)

  def apply_fn(self):
    """``f(params, model_state, x) -> logits`` of the current network in eval mode."""
    graphdef = self.defs.eval
    return lambda params, model_state, x: apply_model(graphdef, params, model_state, x)

  # ---- bookkeeping -------------------------------------------------------------------------------

  def _averaged(self, pending, step) -> dict[str, float]:
    fetched = jax.device_get(pending)  # one transfer of the scalars (stacking on the device compiles per count)
    averaged = {f'train_{k}': float(np.mean(np.stack([m[k] for m in fetched]))) for k in fetched[0]}
    if not math.isfinite(averaged['train_loss']):
      raise PrunejaxError(self._diverged(step))
    self._logged['train'] = averaged
    return averaged

  def _check_finite(self, pending) -> None:
    """Refuses to checkpoint a diverged state: the losses since the last log and the params must be
    finite (checked where a save syncs anyway, not every step)."""
    losses = np.asarray(jax.device_get([m['loss'] for m in pending]))
    if not np.isfinite(losses).all() or not bool(_all_finite(self._state.params)):
      raise PrunejaxError(self._diverged(int(self._state.step)))

  def _diverged(self, step: int) -> str:
    number, meta = self._latest
    kept = ('no checkpoint was written before it' if meta is None else
            f'checkpoint {number} (step {meta["step"]}) is the last good one')
    return (f'training diverged by step {step} (loss is not finite); {kept}: lower '
            f'config.optimizer.learning_rate (now {self.config.optimizer.learning_rate}) and use a new --workdir.')

  def _write(self, step: int, record: dict, view: data_lib.View) -> None:
    """Writes ``record`` with the examples seen, plus phase, params (and units per shrunk group), batch
    size, step bytes and learning rate whenever they changed."""
    current = dict(zip(LOGGED_STATE, (self._phase['name'] if self._phase else '', view.name, self.params_count(),
                                      self.batch_size)))
    changes = {k: v for k, v in current.items() if self._logged.get(k) != v}
    if 'params' in changes:
      changes.update({f'units/{name}': len(kept) for name, kept in self.keep.items()})
    if 'params' in changes or 'batch_size' in changes:
      changes['train_step_bytes'] = self.step_bytes()
      seen = jnp.asarray(self.memory.examples, jnp.int32)
      changes['learning_rate'] = float(self._learning_rate_at()(seen))
    self._logged.update(current)
    masked = core.find_masked_state(self._state.opt_state)
    if record and masked is not None:  # a masked run: the parameters its masks keep, as they are pruned
      record = {**record, 'params_kept': current['params'] - int(_pruned_count(masked.masks))}
    if self.log is not None and (changes or record):  # (a resumed phase's start changes nothing)
      self.log.write(step, {'examples_seen': self.memory.examples, **changes, **record})

  def _save(self) -> None:
    meta = {'fingerprint': self.fingerprint, 'config': self.config.to_dict(), 'step': int(self.state.step),
            'train_seconds': self.train_seconds, **self.ops.meta(), 'phase': self._phase,
            'keep': {name: [int(i) for i in indices] for name, indices in self.keep.items()},
            'batch_size': self.batch_size, 'cursors': {k: c.to_json() for k, c in self.cursors.items()},
            'notes': self.notes, 'memory': self.memory.to_json(),
            'log': {'records': self.log.records if self.log is not None else None,
                    'state': {k: self._logged[k] for k in LOGGED_STATE if k in self._logged}}}
    number = self.checkpointer.save(self.state, meta)
    self._latest = (number, self.checkpointer.saved_meta)

  def final_checkpoint(self) -> dict:
    """{number, step, digest} of the checkpoint that holds the current state, saved now if none does:
    what a summary names, so a reader takes exactly the network the summary describes."""
    number, meta = self._latest
    if meta is None or meta.get('digest') != digest(self.state):
      self._save()
      number, meta = self._latest
    return {'number': number, 'step': int(meta['step']), 'digest': state_digest(meta['digest'])}

  def close(self, release: bool = True) -> None:
    """Waits for the last checkpoint and closes the log; ``release``: also the workdir (False: the caller
    writes the summary first, then calls ``release``)."""
    try:
      if self._checkpointer is not None:
        self._checkpointer.close()
    finally:
      try:
        if self.log is not None:
          self.log.close()
      finally:
        if release:
          self.release()

  def release(self) -> None:
    """Lets another process have the workdir."""
    self._lock.close()


@jax.jit
def _pruned_count(masks) -> jax.Array:
  return sum((jnp.sum(~m, dtype=jnp.int32) for m in jax.tree.leaves(masks)), jnp.int32(0))


@jax.jit
def _all_finite(tree) -> jax.Array:
  return jnp.all(jnp.asarray([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree)] or [True]))
