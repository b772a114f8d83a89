"""Optional dependencies: the light install leaves TensorFlow, TFDS and LiteRT out; a feature that needs
one imports it here and gets a one-line error naming the extra that installs it."""

import importlib
import types

from prunejax.errors import PrunejaxError


def require(module: str, extra: str, feature: str) -> types.ModuleType:
  """``import module``, or a PrunejaxError saying which ``pip install 'prunejax[extra]'`` provides it."""
  try:
    return importlib.import_module(module)
  except ImportError as e:
    raise PrunejaxError(f'{feature} needs {module}, which is not installed ({e}); '
                        f"pip install 'prunejax[{extra}]' (or 'prunejax[all]').") from e
