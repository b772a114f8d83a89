"""Which leaves of a parameter pytree may be pruned, chosen by regex over their '/'-joined paths."""

import re

import jax

from prunejax.errors import PrunejaxError

# Kernels of Dense/Conv layers. Our models name their output layer 'classifier'; it stays dense unless
# the exclusion is changed (pruning the logits layer hurts every method and no paper does it).
DEFAULT_INCLUDE = r'kernel$'
DEFAULT_EXCLUDE = r'(^|/)classifier(/|$)'


def path_to_str(path) -> str:
  """'/'-joined path of a pytree key path: dict keys, sequence indices, attribute names.

  A trailing ``.value`` attribute (how Flax NNX Variables appear in key paths) is dropped, so an NNX
  State and its pure-dict form give the same paths, e.g. 'hidden/0/kernel'.
  """
  if path and isinstance(path[-1], jax.tree_util.GetAttrKey) and path[-1].name == 'value':
    path = path[:-1]
  parts = []
  for key in path:
    for attribute in ('key', 'idx', 'name'):
      if hasattr(key, attribute):
        parts.append(str(getattr(key, attribute)))
        break
    else:
      parts.append(str(key))
  return '/'.join(parts)


def leaf_paths(tree):
  """A pytree shaped like ``tree`` holding each leaf's '/'-joined path."""
  return jax.tree_util.tree_map_with_path(lambda path, _: path_to_str(path), tree)


def select_leaves(tree, include: str = DEFAULT_INCLUDE, exclude: str = DEFAULT_EXCLUDE):
  """A pytree of Python bools: True where the path matches ``include`` and not ``exclude``."""
  try:
    include_re, exclude_re = re.compile(include), re.compile(exclude) if exclude else None
  except re.error as e:
    raise PrunejaxError(f'bad pruning regex ({e}); fix config.pruning.include/exclude.') from e
  chosen = jax.tree.map(
      lambda p: bool(include_re.search(p)) and not (exclude_re and exclude_re.search(p)), leaf_paths(tree))
  if not any(jax.tree.leaves(chosen)):
    paths = jax.tree.leaves(leaf_paths(tree))
    raise PrunejaxError(f'include={include!r} exclude={exclude!r} selects no parameter; paths look like '
                        f'{paths[:4]}; fix config.pruning.include/exclude.')
  return chosen
