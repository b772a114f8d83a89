"""Config files from Python: ``configs.load('configs/dynhp_lenet5_fashion_mnist.py')`` returns what its
``get_config()`` returns, as the command line's ``--config`` does (``'file.py:arg'`` passes ``arg`` to
``get_config(arg)``, e.g. a variant)."""

import pathlib
import runpy

import ml_collections

from prunejax.errors import PrunejaxError


def load(path: str | pathlib.Path) -> ml_collections.ConfigDict:
  """The ConfigDict of config file ``path`` (``'file.py:arg'``: of ``get_config(arg)``)."""
  file, _, arg = str(path).partition(':')
  if not pathlib.Path(file).is_file():
    raise PrunejaxError(f'config file {file} does not exist; pass a path such as configs/default.py.')
  get_config = runpy.run_path(file).get('get_config')
  if get_config is None:
    raise PrunejaxError(f'{file} defines no get_config(); a config file returns its ConfigDict from it.')
  try:
    return get_config(arg) if arg else get_config()
  except TypeError as e:
    if 'get_config()' not in str(e):
      raise
    hint = f"pass it as '{file}:arg'" if not arg else f"its get_config takes no argument: drop ':{arg}'"
    raise PrunejaxError(f'{file}: {e}; {hint}.') from None
