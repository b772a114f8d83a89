import pytest

from prunejax import edge
from prunejax.errors import PrunejaxError


@pytest.mark.parametrize('fixed,per_example,budget,multiple', [(1000, 7, 5000, 1), (0, 1, 64, 8),
                                                               (300, 13, 300 + 13 * 100, 4)])
def test_largest_batch_is_the_last_that_fits(fixed, per_example, budget, multiple):
  calls = []

  def bytes_at(batch):
    calls.append(batch)
    return fixed + per_example * batch

  batch = edge.largest_batch_within(budget, bytes_at, multiple)
  assert len(calls) <= 4  # affine cost: extrapolated, then checked (each call is a compile in real use)
  assert batch % multiple == 0 and bytes_at(batch) <= budget < bytes_at(batch + multiple)


def test_an_affine_cost_is_not_probed_past_the_answer():
  """Two probes give the line, the third (the answer) checks it; the neighbour is the line's to judge."""
  calls = []
  bytes_at = lambda b: calls.append(b) or 10_000_000 + 180_000 * b + (b % 4) * 16  # step bytes, padded
  batch = edge.largest_batch_within(40_000_000, bytes_at, hint=128, affine=True)
  assert calls == [128, 256, 166] and batch == 166
  assert bytes_at(166) <= 40_000_000 < bytes_at(167)


def test_an_answer_off_the_line_has_its_neighbour_probed():
  calls = []
  # Affine, but 150 KB lower from batch 330 on: the answer lies below the probes' line.
  bytes_at = lambda b: calls.append(b) or 10_000_000 + 180_000 * b - (150_000 if b >= 330 else 0)
  batch = edge.largest_batch_within(70_000_000, bytes_at, hint=128, affine=True)
  assert calls[:4] == [128, 256, 333, 334]  # the line's answer is 150 KB off it: its neighbour is compiled
  assert batch == 334 and bytes_at(batch) <= 70_000_000 < bytes_at(batch + 1)


@pytest.mark.parametrize('hint', [8, 100, 193, 250])
@pytest.mark.parametrize('budget', [20_000_000, 45_000_000, 79_273_716])
def test_a_cost_with_flat_steps_gets_the_largest_batch_unless_vouched_affine(hint, budget):
  """A batch padded to a multiple of 8 (a TPU's tiles): batch b costs what ceil(b / 8) * 8 does, so the
  line through three probes says nothing of the neighbour; only a caller's ``affine`` skips it."""
  bytes_at = lambda b: 10_000_000 + 180_000 * 8 * -(-b // 8)
  batch = edge.largest_batch_within(budget, bytes_at, hint=hint)
  assert bytes_at(batch) <= budget < bytes_at(batch + 1)


def test_a_budget_too_small_for_any_batch_is_a_clear_error():
  with pytest.raises(PrunejaxError, match='even a batch of 8 needs 108 bytes, over the budget of 50'):
    edge.largest_batch_within(50, lambda b: 100 + b, multiple=8)


def test_a_convex_cost_is_still_searched_exactly():
  bytes_at = lambda b: 50 + b * b
  batch = edge.largest_batch_within(10_000, bytes_at, multiple=2)
  assert bytes_at(batch) <= 10_000 < bytes_at(batch + 2)


def test_the_limit_caps_the_batch():
  assert edge.largest_batch_within(10**9, lambda b: b, multiple=3, limit=100) == 99


@pytest.mark.parametrize('hint', [None, 8, 128, 5000])
def test_a_hint_anywhere_costs_few_probes(hint):
  calls = []
  bytes_at = lambda b: calls.append(b) or 4096 + 37 * b + (b % 16) * 3  # affine, with alignment wiggle
  batch = edge.largest_batch_within(50_000, bytes_at, multiple=1, limit=4096, hint=hint)
  assert bytes_at(batch) <= 50_000 < bytes_at(batch + 1) or batch == 4096
  assert len(calls) <= 8
