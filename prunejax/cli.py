"""What every script's command line shares: one-line errors for config overrides that name no field.

``ml_collections``' config flags raise a traceback for ``--config.nosuch=1``; ``run(main)`` checks the
overrides against the config file first and names the field and its nearest existing ones.
"""

import dataclasses
import difflib
import importlib
import errno
import os
import sys
from collections.abc import Callable, Sequence

import ml_collections
from absl import app, flags

from prunejax import configs
from prunejax.errors import PrunejaxError, StorageError


# prunejax-train may be one of several processes of a run (prunejax/train/distributed.py); the other
# commands refuse these flags.
_COORDINATOR = flags.DEFINE_string('coordinator_address', '', 'Multi-process runs: host:port of process 0, '
                                   'the same for every process (with --num_processes and --process_id).')
_NUM_PROCESSES = flags.DEFINE_integer('num_processes', 0, 'Multi-process runs: how many processes.')
_PROCESS_ID = flags.DEFINE_integer('process_id', -1, 'Multi-process runs: this process\'s index, 0 .. count - 1.')

_FULL_OR_READ_ONLY = (errno.ENOSPC, errno.EROFS, errno.EDQUOT)  # refused writes only (EACCES may be a read)


# The settings classes a config's fields come from, in the order a reader meets them (--help lists them).
SETTINGS = ('prunejax.train.run_settings:RunSettings', 'prunejax.train.optimizer_settings:OptimizerSettings',
            'prunejax.train.pruning_settings:PruningSettings', 'prunejax.edge.settings:EdgeSettings',
            'prunejax.methods.dynhp_settings:DynHPSettings',
            'prunejax.methods.reconvene_settings:ReconveneSettings',
            'prunejax.methods.adapt_settings:AdaptSettings',
            'prunejax.methods.edge_retrain_settings:EdgeRetrainSettings',
            'prunejax.methods.small_dense_settings:SmallDenseSettings')


def help_text(command_module: str, multi_process: bool = False) -> str:
  """The command's docstring and flags (with ``multi_process``, the flags of a run across processes too)
  and, for a command that takes ``--config``, every config field with its default and meaning (absl's own
  --help exits 1 and knows no config fields)."""
  parts = [(sys.modules[command_module].__doc__ or '').strip(), '', 'flags:',
           flags.FLAGS.module_help(command_module) or '  (none)']
  if multi_process:
    parts += ['', 'flags of a run across processes (docs/devices.md):', flags.FLAGS.module_help(__name__)]
  if any(flag.name == 'config' for flag in flags.FLAGS.get_flags_for_module(command_module)):
    parts += ['', 'config fields (override any with --config.<field>=value; docs/configs.md has ranges):']
    for name in SETTINGS:
      module, cls = name.split(':')
      settings = getattr(importlib.import_module(module), cls)
      for field in dataclasses.fields(settings):
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        parts.append(f'  {settings.block}.{field.name} = {default!r}: {field.metadata["help"]}')
  return '\n'.join(parts)


def _end_at_once(line: str) -> None:
  """Prints ``line`` and ends the process without clean-ups: after a refused write the writers' own
  clean-ups (TensorBoard's flush at exit, Orbax's pending tasks) would fail again, each with tracebacks.
  What was written is as after a crash: finished checkpoints intact, a torn log line dropped on resume."""
  print(line, file=sys.stderr, flush=True)
  sys.stdout.flush()
  os._exit(1)  # pylint: disable=protected-access


def override_errors(argv: Sequence[str]) -> list[str]:
  """One message per ``--config.a.b=value`` whose path does not exist in the ``--config`` file."""
  path = next((a.split('=', 1)[1] for a in argv if a.startswith('--config=')), None)
  if path is None and '--config' in argv and argv.index('--config') + 1 < len(argv):
    path = argv[argv.index('--config') + 1]
  if path is None:
    return []
  try:
    config = configs.load(path)  # 'file.py:arg' too, as the config flag reads it
  except PrunejaxError as e:
    return [f'cannot load --config {path}: {e}']
  except Exception as e:  # pylint: disable=broad-except  # a file that is not a config: say what it raised
    return [f'cannot load --config {path}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}; '
            'pass a Python config file with get_config(), e.g. configs/default.py.']
  errors = []
  for arg in argv:
    if not arg.startswith('--config.'):
      continue
    node, parts = config, arg[len('--config.'):].split('=', 1)[0].split('.')
    for depth, part in enumerate(parts):
      if isinstance(node, (ml_collections.ConfigDict, dict)) and part in node:
        node = node[part]
        continue
      where = '.'.join(['config'] + parts[:depth])
      names = list(node.keys()) if isinstance(node, (ml_collections.ConfigDict, dict)) else []
      near = difflib.get_close_matches(part, names, n=3, cutoff=0.5) or sorted(names)[:8]
      errors.append(f'{where} has no field {part!r} (from {arg.split("=", 1)[0]}); '
                    f'did you mean one of {near}?')
      break
  return errors


def run(main: Callable[[list[str]], None], command_module: str = '__main__', multi_process: bool = False) -> None:
  """``absl.app.run(main)`` after checking the config overrides; a ``PrunejaxError`` (bad override or bad
  input found later) ends the program with its one line, ``error: ...``, and a non-zero status; Ctrl-C
  with one line saying how to resume (status 130).

  ``--help`` describes the command whichever file started it (a console script, ``scripts/``, ``-m``):
  absl lists the flags and docstring of ``__main__`` only, so the command module's are lent to it."""
  module = sys.modules[command_module]
  main_module = sys.modules['__main__']
  if main_module is not module:
    main_module.__doc__ = module.__doc__
    for flag in flags.FLAGS.get_flags_for_module(command_module):
      flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)
  if any(arg in ('--help', '-h', '-?', '--helpshort') for arg in sys.argv[1:]):
    print(help_text(command_module, multi_process))
    sys.exit(0)
  errors = override_errors(sys.argv[1:])
  if errors:
    sys.exit(f'error: {errors[0]}')

  def one_line_errors(argv):
    try:
      if multi_process:
        from prunejax.train import distributed  # pylint: disable=g-import-not-at-top
        distributed.initialize(_COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value)
      elif _COORDINATOR.value or _NUM_PROCESSES.value > 1:
        raise PrunejaxError(f'{os.path.basename(sys.argv[0])} runs as one process (its outputs are written by '
                            'every process that runs it); drop --coordinator_address/--num_processes, or train '
                            'across processes with prunejax-train and use this command on the finished run.')
      return main(argv)
    except StorageError as e:
      _end_at_once(f'error: {e}')
    except PrunejaxError as e:
      sys.exit(f'error: {e}')
    except OSError as e:
      if e.errno not in _FULL_OR_READ_ONLY:
        raise
      _end_at_once(f'error: {e.strerror} while writing {e.filename or "in the workdir"}; free space or make it '
                   'writable, then re-run the same command: it resumes from the newest intact checkpoint.')
    except KeyboardInterrupt:  # the run closed its checkpoints on the way out: they are whole
      print('interrupted: the checkpoints written so far are kept; re-run the same command to resume.',
            file=sys.stderr, flush=True)
      sys.exit(130)

  app.run(one_line_errors)
