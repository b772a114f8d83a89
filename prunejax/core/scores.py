"""Element-wise importance scores (pytree -> pytree; higher = keep) and the PaI scorer registry.

Magnitude |θ|; random; SNIP |θ ⊙ ∂L/∂θ| (Lee et al. 2019); GraSP -θ ⊙ Hg (Wang et al. 2020); SynFlow
|θ ⊙ ∂R/∂θ| with R = Σ f(𝟙) on |θ| (Tanaka et al. 2020), iterated. The model enters only through
callables, so this module knows nothing of Flax: ``loss_fn(params) -> scalar`` with the score batch
bound, ``loss_at_temperature(params, T)`` for GraSP, ``forward(params, x) -> outputs`` for SynFlow.
"""

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from prunejax.core.masks import apply_masks, masks_global, masks_layerwise
from prunejax.errors import PrunejaxError
from prunejax.registry import Registry


def magnitude(params):
  return jax.tree.map(jnp.abs, params)


def random_scores(params, key: jax.Array):
  leaves = jax.tree.leaves(params)
  keys = jax.random.split(key, len(leaves))
  return jax.tree.unflatten(jax.tree.structure(params),
                            [jax.random.uniform(k, x.shape) for k, x in zip(keys, leaves)])


def snip(loss_fn: Callable, params):
  """|θ ⊙ ∂L/∂θ|: connection sensitivity at ``params``."""
  grads = jax.grad(loss_fn)(params)
  return jax.tree.map(lambda p, g: jnp.abs(p * g), params, grads)


def grasp(loss_at_temperature: Callable, params, temperature: float = 200.0, prune: str = 'highest'):
  """GraSP's S = -θ ⊙ Hg with g = ∇L(logits/T), returned so that higher means keep.

  The paper removes the weights with the *highest* S (``prune='highest'``, the default: we return -S);
  ``prune='lowest'`` returns S itself, for the variant that removes the lowest.
  Hg is a Hessian-vector product: the JVP of the gradient along g (g held constant).
  """
  if prune not in ('highest', 'lowest'):
    raise PrunejaxError(f"grasp prune={prune!r} must be 'highest' or 'lowest'.")
  grad_fn = jax.grad(lambda p: loss_at_temperature(p, temperature))
  g = jax.lax.stop_gradient(grad_fn(params))
  _, hg = jax.jvp(grad_fn, (params,), (g,))
  s = jax.tree.map(lambda p, h: -p * h, params, hg)
  return jax.tree.map(jnp.negative, s) if prune == 'highest' else s


def synflow_scores(forward: Callable, params, input_shape):
  """|θ ⊙ ∂R/∂θ| with R = Σ forward(|θ|, 𝟙): data-free synaptic flow, in float64 where available."""
  dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
  abs_params = jax.tree.map(lambda p: jnp.abs(p).astype(dtype), params)
  ones = jnp.ones((1,) + tuple(input_shape), dtype)
  grads = jax.grad(lambda p: jnp.sum(forward(p, ones)))(abs_params)
  return jax.tree.map(lambda p, g: jnp.abs(p * g).astype(jnp.float32), abs_params, grads)


def synflow_masks(forward: Callable, params, input_shape, selected, sparsity: float, rounds: int = 100,
                  densities=None):
  """Iterative SynFlow: round r of ``rounds`` keeps (1 - sparsity)^(r / rounds) with one global
  threshold, or, given per-leaf ``densities``, each leaf's density^(r / rounds)."""
  def one_round(r, masks):
    fraction = (r + 1.0) / rounds
    scores = synflow_scores(forward, apply_masks(params, masks), input_shape)
    scores = jax.tree.map(lambda m, s: s if m is None else jnp.where(m, s, -1.0), masks, scores,
                          is_leaf=lambda x: x is None)  # pruned stay pruned
    if densities is None:
      return masks_global(scores, selected, 1.0 - (1.0 - sparsity) ** fraction)
    return masks_layerwise(scores, jax.tree.map(lambda d: d ** fraction, densities))

  initial = jax.tree.map(lambda f, p: jnp.ones(p.shape, bool) if f else None, selected, params)
  return jax.lax.fori_loop(0, rounds, one_round, initial)


@dataclasses.dataclass(frozen=True)
class ScoreContext:
  """What a scorer may use: a loss on the score batch, a forward pass, a key, the input shape."""
  loss_fn: Callable | None = None  # params -> scalar
  loss_at_temperature: Callable | None = None  # (params, T) -> scalar
  forward: Callable | None = None  # (params, x) -> outputs, eval mode
  key: jax.Array | None = None
  input_shape: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True)
class Scorer:
  """An algorithm is a subclass overriding ``scores``; ``masks`` prunes with it in one shot.

  ``masks`` uses one global threshold, or per-leaf ``densities`` (see ``layer_densities``) when given.
  """
  name: ClassVar[str] = ''

  def scores(self, params, context: ScoreContext):
    raise NotImplementedError

  def masks(self, params, context: ScoreContext, selected, sparsity: float, densities=None):
    scores = self.scores(params, context)
    if densities is None:
      return masks_global(scores, selected, sparsity)
    return masks_layerwise(scores, densities)


SCORERS: Registry[type[Scorer]] = Registry('pruning method', 'config.pruning.method')


def register_scorer(cls: type[Scorer]) -> type[Scorer]:
  """Class decorator: makes ``cls`` available by ``cls.name`` (user scores plug in here)."""
  SCORERS.add(cls.name, cls)
  return cls


def get_scorer(name: str, **kwargs: Any) -> Scorer:
  return SCORERS.get(name)(**kwargs)


def scorer_names() -> tuple[str, ...]:
  return SCORERS.names()


@register_scorer
class Magnitude(Scorer):
  name = 'magnitude'

  def scores(self, params, context):
    return magnitude(params)


@register_scorer
class Random(Scorer):
  name = 'random'

  def scores(self, params, context):
    return random_scores(params, context.key)


@register_scorer
class Snip(Scorer):
  name = 'snip'

  def scores(self, params, context):
    return snip(context.loss_fn, params)


@register_scorer
@dataclasses.dataclass(frozen=True)
class Grasp(Scorer):
  name = 'grasp'
  temperature: float = 200.0
  prune: str = 'highest'

  def scores(self, params, context):
    return grasp(context.loss_at_temperature, params, self.temperature, self.prune)


@register_scorer
@dataclasses.dataclass(frozen=True)
class SynFlow(Scorer):
  name = 'synflow'
  rounds: int = 100

  def scores(self, params, context):
    return synflow_scores(context.forward, params, context.input_shape)

  def masks(self, params, context, selected, sparsity, densities=None):
    return synflow_masks(context.forward, params, context.input_shape, selected, sparsity, self.rounds,
                         densities)
