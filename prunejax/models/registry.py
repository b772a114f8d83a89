"""Model registry: a config string picks an NNX model constructor."""

import inspect
from collections.abc import Callable

import numpy as np
from flax import nnx

from prunejax.errors import PrunejaxError
from prunejax.registry import Registry

ModelFactory = Callable[..., nnx.Module]
MODELS: Registry[ModelFactory] = Registry('model', 'config.model')


def register(name: str) -> Callable[[ModelFactory], ModelFactory]:
  """Registers ``factory(input_shape, num_classes, *, rngs, **kwargs) -> nnx.Module`` under ``name``."""
  return MODELS.register(name)


def model_names() -> tuple[str, ...]:
  return MODELS.names()


def check_model_name(name: str) -> None:
  MODELS.check(name)


def model_arguments(name: str) -> str:
  """What config.model_kwargs may set for model ``name``: its constructor's own arguments, with defaults."""
  parameters = inspect.signature(MODELS.get(name)).parameters.values()
  own = [p for p in parameters if p.name not in ('input_shape', 'num_classes', 'rngs')
         and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
  return ', '.join(f'{p.name}={p.default!r}' if p.default is not p.empty else p.name for p in own) or 'no arguments'


def create_model(name: str, input_shape: tuple[int, ...], num_classes: int, seed: int = 0,
                 **kwargs) -> nnx.Module:
  """Builds model ``name`` for inputs of ``input_shape`` (H, W, C or features) and ``num_classes``."""
  check_model_name(name)
  if num_classes < 1:
    raise PrunejaxError(f'model {name!r} needs num_classes >= 1, got {num_classes}.')
  widths = [w for key in ('width', 'hidden') if key in kwargs for w in np.atleast_1d(kwargs[key])]
  if any(not w > 0 for w in widths):  # (a width of 0 or less would build a one-channel network, or fail in XLA)
    raise PrunejaxError(f'bad config.model_kwargs {kwargs} for model {name!r}: every width must be > 0.')
  try:
    model = MODELS.get(name)(tuple(input_shape), num_classes, rngs=nnx.Rngs(seed), **kwargs)
  except (TypeError, ValueError, ZeroDivisionError) as e:  # unknown arguments, impossible widths or shapes
    if not kwargs:
      raise PrunejaxError(f'cannot build model {name!r} for inputs of shape {tuple(input_shape)} '
                          f'({type(e).__name__}: {e}); images are (height, width, channels).') from e
    raise PrunejaxError(f'bad config.model_kwargs {kwargs} for model {name!r} ({type(e).__name__}: {e}); '
                        f'{name} takes {model_arguments(name)}, every width >= 1.') from e
  empty = [path for path, leaf in nnx.to_flat_state(nnx.state(model, nnx.Param)) if leaf.value.size == 0]
  if empty:
    raise PrunejaxError(f'bad config.model_kwargs {kwargs} for model {name!r}: parameter '
                        f'{"/".join(map(str, empty[0]))} has no entries (a zero width); every width must be >= 1.')
  return model
