"""Settings declared once: each block's dataclass refuses unknown and missing keys, wrong types, values
out of range and unknown choices, in one line naming the field."""

import dataclasses
import math
from typing import ClassVar

import pytest

from prunejax.errors import PrunejaxError
from prunejax.settings import Settings, setting


@dataclasses.dataclass(frozen=True)
class Toy(Settings):
  block: ClassVar[str] = 'config.toy'
  rate: float = setting(0.5, 'share removed', low=0, low_open=True, high=1, high_open=True)
  steps: int = setting(10, 'how many', low=1)
  kind: str = setting('a', 'which', choices=('a', 'b'))
  window: tuple[float, float] = setting((0.1, 0.6), 'from/to', low=0, high=1)
  on: bool = setting(True, 'switch')


def test_defaults_round_trip_through_a_config():
  assert Toy.from_config(Toy().config()) == Toy()
  assert Toy().config().window == (0.1, 0.6)


@pytest.mark.parametrize('field,value,message', [
    ('rate', 0.0, r'config.toy.rate=0.0 must be in \(0, 1\); share removed'),
    ('rate', 1.0, r'config.toy.rate=1.0 must be in \(0, 1\)'),
    ('rate', math.nan, r'config.toy.rate=nan must be a number \(finite\)'),
    ('rate', math.inf, r'config.toy.rate=inf must be a number \(finite\)'),
    ('rate', 'half', r"config.toy.rate='half' must be a number"),
    ('steps', 0, r'config.toy.steps=0 must be >= 1'),
    ('steps', 2.5, r'config.toy.steps=2.5 must be an integer'),
    ('steps', True, r'config.toy.steps=True must be an integer'),
    ('kind', 'c', r"config.toy.kind='c' is unknown; choose one of \('a', 'b'\)"),
    ('window', (0.1,), r'config.toy.window=\(0.1,\) must hold 2 values'),
    ('window', (0.1, 2.0), r'config.toy.window=\(0.1, 2.0\) must be in \[0, 1\]'),
    ('on', 1, r'config.toy.on=1 must be True or False'),
])
def test_a_bad_value_is_one_line_naming_the_field(field, value, message):
  values = Toy().config().to_dict()
  values[field] = value
  with pytest.raises(PrunejaxError, match=message) as error:
    Toy.from_config(values)
  assert '\n' not in str(error.value)


def test_unknown_and_missing_keys_are_refused():
  values = Toy().config().to_dict()
  with pytest.raises(PrunejaxError, match=r"config.toy has unknown fields \['stpes'\]"):
    Toy.from_config({**values, 'stpes': 3})
  del values['kind']
  with pytest.raises(PrunejaxError, match=r"config.toy lacks \['kind'\]; start from configs/default.py"):
    Toy.from_config(values)
  assert Toy.from_config({**Toy().config().to_dict(), 'other': {}}, extra=['other']) == Toy()


def test_the_field_table_lists_every_field_with_its_range():
  table = Toy.field_table().splitlines()
  assert table[0] == '| field | default | range | meaning |' and len(table) == 2 + 5
  assert '| `rate` | `0.5` | in (0, 1) | share removed |' in table
  assert '| `kind` | `\'a\'` | a \\| b | which |' in table
