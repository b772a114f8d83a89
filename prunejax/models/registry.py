"""Model registry: a config string picks an NNX model constructor."""

from collections.abc import Callable

from flax import nnx

from prunejax.errors import PrunejaxError

ModelFactory = Callable[..., nnx.Module]
_FACTORIES: dict[str, ModelFactory] = {}


def register(name: str) -> Callable[[ModelFactory], ModelFactory]:
  """Registers ``factory(input_shape, num_classes, *, rngs, **kwargs) -> nnx.Module`` under ``name``."""
  def decorator(factory: ModelFactory) -> ModelFactory:
    if name in _FACTORIES:
      raise ValueError(f'model {name!r} is registered twice.')
    _FACTORIES[name] = factory
    return factory
  return decorator


def model_names() -> tuple[str, ...]:
  return tuple(sorted(_FACTORIES))


def check_model_name(name: str) -> None:
  if name not in _FACTORIES:
    raise PrunejaxError(f'unknown model {name!r}; choose one of {", ".join(model_names())}.')


def create_model(name: str, input_shape: tuple[int, ...], num_classes: int, seed: int = 0,
                 **kwargs) -> nnx.Module:
  """Builds model ``name`` for inputs of ``input_shape`` (H, W, C or features) and ``num_classes``."""
  check_model_name(name)
  try:
    return _FACTORIES[name](tuple(input_shape), num_classes, rngs=nnx.Rngs(seed), **kwargs)
  except TypeError as e:
    raise PrunejaxError(f'bad config.model_kwargs {kwargs} for model {name!r}: {e}.') from e
