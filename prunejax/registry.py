"""One registry pattern for everything a config string picks (models, PaI scorers, methods).

Registering a name twice is an error (a silent overwrite would run the wrong code); looking up an unknown
name raises ``PrunejaxError`` listing the choices.
"""

from collections.abc import Callable
from typing import Generic, TypeVar

from prunejax.errors import PrunejaxError

T = TypeVar('T')


class Registry(Generic[T]):
  """Name -> object, for one kind of thing (``kind`` names it in errors, e.g. 'model')."""

  def __init__(self, kind: str, field: str):
    self.kind = kind
    self.field = field  # the config field that picks one, for error messages
    self._entries: dict[str, T] = {}

  def register(self, name: str) -> Callable[[T], T]:
    """Decorator registering its argument under ``name``."""
    def decorator(entry: T) -> T:
      self.add(name, entry)
      return entry
    return decorator

  def add(self, name: str, entry: T) -> None:
    if name in self._entries:
      raise PrunejaxError(f'{self.kind} {name!r} is registered twice; pick another name.')
    self._entries[name] = entry

  def get(self, name: str) -> T:
    self.check(name)
    return self._entries[name]

  def check(self, name: str) -> None:
    if name not in self._entries:
      raise PrunejaxError(f'unknown {self.kind} {name!r}; choose one of {", ".join(self.names())} '
                          f'(set {self.field}).')

  def names(self) -> tuple[str, ...]:
    return tuple(sorted(self._entries))

  def __contains__(self, name: str) -> bool:
    return name in self._entries

  def __iter__(self):
    """The names in registration order (a grid over them keeps the order they were declared in)."""
    return iter(self._entries)
