"""Settings declared once: each config block is a frozen dataclass whose fields carry their type, default,
range and meaning. ``from_config`` checks a block against it in one place — unknown and missing keys,
types, ranges, choices — and refuses the first bad value in one line; ``config()`` gives the block a
config file starts from; ``field_table()`` is the block's reference for the docs.

    @dataclasses.dataclass(frozen=True)
    class Optimizer(Settings):
      block: ClassVar[str] = 'config.optimizer'
      learning_rate: float = setting(0.05, 'peak learning rate', low=0, low_open=True)
"""

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import ml_collections

from prunejax.errors import PrunejaxError


def setting(default: Any, help: str = '', *, low: float | None = None, high: float | None = None,  # pylint: disable=redefined-builtin
            low_open: bool = False, high_open: bool = False,
            choices: Sequence[str] | Callable[[], Sequence[str]] | None = None) -> Any:
  """A field with its meaning (``help``) and its range: numbers (and each item of a tuple) within
  ``low``/``high`` (``*_open``: excluded); strings among ``choices`` (or a callable giving them, for
  registries that grow)."""
  default_value = tuple(default) if isinstance(default, list) else default
  if isinstance(default_value, dict):
    return dataclasses.field(default_factory=lambda: dict(default_value),
                             metadata={'help': help, 'low': low, 'high': high, 'low_open': low_open,
                                       'high_open': high_open, 'choices': choices})
  return dataclasses.field(default=default_value, metadata={
      'help': help, 'low': low, 'high': high, 'low_open': low_open, 'high_open': high_open, 'choices': choices})


@dataclasses.dataclass(frozen=True)
class Settings:
  """Base of every settings block; subclasses set ``block`` (its config path) and ``example`` (a config
  file that has it), and may add cross-field rules in ``check``."""
  block: ClassVar[str] = 'config'
  example: ClassVar[str] = 'configs/default.py'

  @classmethod
  def from_config(cls, values: ml_collections.ConfigDict | dict, extra: Sequence[str] = ()):
    """The block's settings, every value checked; ``extra``: keys held elsewhere (e.g. the sub-blocks of
    the top-level config), neither refused nor read."""
    values = values.to_dict() if isinstance(values, ml_collections.ConfigDict) else dict(values)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields) - set(extra))
    if unknown:
      raise PrunejaxError(f'{cls.block} has unknown fields {unknown}; known: {sorted(fields)} (a typo? start '
                          f'from {cls.example}).')
    missing = sorted(set(fields) - set(values))
    if missing:
      raise PrunejaxError(f'{cls.block} lacks {missing}; start from {cls.example}.')
    hints = typing.get_type_hints(cls)
    for name, f in fields.items():
      _check_value(f'{cls.block}.{name}', values[name], hints[name], f.metadata)
    settings = cls(**{name: _frozen(values[name]) for name in fields})
    settings.check()
    return settings

  def check(self) -> None:
    """Rules between fields (a subclass's); raise ``PrunejaxError`` in one line."""

  def config(self) -> ml_collections.ConfigDict:
    """The block as a config file holds it."""
    return ml_collections.ConfigDict(
        {f.name: _thawed(getattr(self, f.name)) for f in dataclasses.fields(self)})

  def error(self, field: str, rule: str) -> PrunejaxError:
    """A one-line refusal of ``field``'s value: ``rule`` says what it must be and what to do."""
    return PrunejaxError(f'{self.block}.{field}={getattr(self, field)!r} {rule}')

  @classmethod
  def field_table(cls) -> str:
    """Markdown: field, default, range, meaning."""
    rows = ['| field | default | range | meaning |', '|---|---|---|---|']
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
      default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
      meaning = f.metadata['help'].replace('|', '\\|')
      rows.append(f'| `{f.name}` | `{default!r}` | {_describe(hints[f.name], f.metadata)} | {meaning} |')
    return '\n'.join(rows)


def _check_value(path: str, value: Any, kind: Any, meta: dict) -> None:
  origin = typing.get_origin(kind)
  if origin in (typing.Union, types.UnionType):
    return  # free-form (e.g. str | int): checked where it is used
  if kind is dict:
    if not isinstance(value, dict):
      raise PrunejaxError(f'{path}={value!r} must be a block of fields (a ConfigDict).')
    return
  if origin is tuple:
    items = typing.get_args(kind)
    if not isinstance(value, (tuple, list)):
      raise PrunejaxError(f'{path}={value!r} must be a tuple of {_type_name(items[0])}.')
    if items[-1] is not Ellipsis and len(value) != len(items):
      raise PrunejaxError(f'{path}={tuple(value)!r} must hold {len(items)} values.')
    for item in value:
      _check_scalar(path, item, items[0], meta, whole=tuple(value))
    return
  _check_scalar(path, value, kind, meta)


def _check_scalar(path: str, value: Any, kind: type, meta: dict, whole: Any = None) -> None:
  shown = repr(whole if whole is not None else value)
  if kind is bool:
    ok = isinstance(value, bool)
  elif kind is int:
    ok = isinstance(value, int) and not isinstance(value, bool)
  elif kind is float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
  else:
    ok = isinstance(value, kind)
  if not ok:
    raise PrunejaxError(f'{path}={shown} must be {_type_name(kind)}{"" if kind is not float else " (finite)"}.')
  choices = meta.get('choices')
  choices = choices() if callable(choices) else choices
  if choices is not None and value not in choices:
    raise PrunejaxError(f'{path}={shown} is unknown; choose one of {tuple(choices)}.')
  low, high = meta.get('low'), meta.get('high')
  below = low is not None and (value <= low if meta['low_open'] else value < low)
  above = high is not None and (value >= high if meta['high_open'] else value > high)
  if below or above:
    raise PrunejaxError(f'{path}={shown} must be {_range(meta)}{"; " + meta["help"] if meta["help"] else ""}.')


def _range(meta: dict) -> str:
  low, high = meta.get('low'), meta.get('high')
  if low is not None and high is not None:
    return f'in {"(" if meta["low_open"] else "["}{low}, {high}{")" if meta["high_open"] else "]"}'
  if low is not None:
    return f'{">" if meta["low_open"] else ">="} {low}'
  return f'{"<" if meta["high_open"] else "<="} {high}'


def _describe(kind: Any, meta: dict) -> str:
  choices = meta.get('choices')
  if choices is not None:
    return ' \\| '.join(choices() if callable(choices) else choices)
  if meta.get('low') is not None or meta.get('high') is not None:
    return _range(meta)
  return ''


def _type_name(kind: Any) -> str:
  return {bool: 'True or False', int: 'an integer', float: 'a number', str: 'a string'}.get(kind, str(kind))


def _frozen(value: Any) -> Any:
  return tuple(value) if isinstance(value, list) else value


def _thawed(value: Any) -> Any:
  return ml_collections.ConfigDict(value) if isinstance(value, dict) else value
