"""What a structured removal leaves, counted without moving data: the parameters of the current network
shrunk by a ``keep`` plan, and the plan that removes a list of (group, unit) pairs. Shared by the
methods that remove units until a parameter budget is met (DynHP, ADaPT)."""

import jax
import numpy as np
from flax import nnx

from prunejax import core, structure
from prunejax.train import Run


def param_counter(run: Run, include: str | None = None):
  """``count(keep)``: parameters of the current network shrunk by ``keep`` (only leaves whose path
  matches ``include`` when given, e.g. r'kernel$' for the weights)."""
  _, variables = nnx.split(run.model())
  groups, params = run.groups(), run.state.params
  chosen = core.select_leaves(params, include, r'$^') if include else jax.tree.map(lambda _: True, params)
  counted = {path for path, f in zip(jax.tree.leaves(core.leaf_paths(params)), jax.tree.leaves(chosen)) if f}

  def count(keep) -> int:
    shapes = structure.shrunk_shapes(groups, keep, variables)
    return sum(int(np.prod(shape)) for path, shape in shapes.items() if path in counted)

  return count


def complement(groups, removed) -> dict[str, np.ndarray]:
  """The ``keep`` plan (kept unit indices per touched group) that removes the ``removed`` (group, unit) pairs."""
  gone: dict[str, set] = {}
  for name, unit in removed:
    gone.setdefault(name, set()).add(unit)
  return {g.name: np.setdiff1d(np.arange(g.size), sorted(gone[g.name])) for g in groups if g.name in gone}


def removal_order(groups, scores, min_units: int, key=None) -> list[tuple[str, int]]:
  """(group, unit) pairs in removal order: each group's units by its own ascending scores, all but its
  ``min_units`` best, placed in one global order by ``key(group, scores)`` (default: the scores
  themselves; ties by group and unit)."""
  candidates = []
  for g in groups:
    s = np.asarray(scores[g.name], np.float64)
    keys = s if key is None else key(g, s)
    candidates += [(float(keys[u]), g.name, int(u)) for u in np.argsort(s, kind='stable')[:max(g.size - min_units, 0)]]
  return [(name, unit) for _, name, unit in sorted(candidates)]


def first_reaching(low: int, high: int, reached) -> int:
  """The smallest prefix length in (low, high] for which ``reached(length)`` holds, given it does not at
  ``low`` and does at ``high`` (``reached`` monotone in the length): a bisection, one count per step."""
  while high - low > 1:
    middle = (low + high) // 2
    low, high = (low, middle) if reached(middle) else (middle, high)
  return high
