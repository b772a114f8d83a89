import numpy as np
import pytest

from prunejax.core import PruningSchedule
from prunejax.errors import PrunejaxError


def test_one_shot_prunes_everything_at_begin_step_once():
  s = PruningSchedule('one_shot', 0.8, begin_step=5)
  assert [float(s.sparsity_at(t)) for t in (0, 4, 5, 100)] == [0.0, 0.0, pytest.approx(0.8), pytest.approx(0.8)]
  assert [bool(s.is_refresh_step(t)) for t in (4, 5, 6)] == [False, True, False]


def test_iterative_removes_a_constant_fraction_of_what_remains():
  s = PruningSchedule('iterative', 0.875, begin_step=0, end_step=20, update_every=10)
  assert s.num_refreshes == 3
  np.testing.assert_allclose([s.sparsity_at(t) for t in (0, 10, 20, 30)], [0.5, 0.75, 0.875, 0.875],
                             rtol=1e-6)


def test_polynomial_is_cubic_and_reaches_the_target_at_the_last_refresh():
  s = PruningSchedule('polynomial', 0.9, begin_step=100, end_step=400, update_every=100)
  expected = [0.0, 0.0, 0.9 * (1 - (2 / 3) ** 3), 0.9 * (1 - (1 / 3) ** 3), 0.9, 0.9]
  np.testing.assert_allclose([s.sparsity_at(t) for t in (50, 100, 200, 300, 400, 1000)], expected,
                             rtol=1e-6, atol=1e-7)
  assert [bool(s.is_refresh_step(t)) for t in (100, 150, 400, 500)] == [True, False, True, False]


def test_a_polynomial_window_shorter_than_one_refresh_prunes_at_once():
  s = PruningSchedule('polynomial', 0.8, begin_step=2, end_step=13, update_every=100)
  assert s.num_refreshes == 1 and float(s.sparsity_at(1)) == 0.0
  assert float(s.sparsity_at(2)) == pytest.approx(0.8) and float(s.sparsity_at(50)) == pytest.approx(0.8)


@pytest.mark.parametrize('kwargs,message', [
    (dict(kind='cosine', sparsity=0.5), 'unknown pruning schedule'),
    (dict(kind='polynomial', sparsity=0.5, begin_step=10, end_step=5), 'needs begin_step < end_step'),
    (dict(kind='polynomial', sparsity=0.9, begin_step=0, end_step=0), 'needs begin_step < end_step'),
    (dict(kind='iterative', sparsity=0.5, update_every=0), 'update_every=0'),
])
def test_bad_schedules_are_refused(kwargs, message):
  with pytest.raises(PrunejaxError, match=message):
    PruningSchedule(**kwargs)
