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

from prunejax.core.conv_taps import convolutions_as_taps
from prunejax.core.masks import apply_masks, masks_global, masks_layerwise, ones_masks
from prunejax.core.scaled_eval import scaled_eval
from prunejax.core.unsaturated import without_saturation
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


def grasp(loss_at_temperature: Callable, params, temperature: float = 200.0, prune: str = 'highest',
          selected=None):
  """GraSP's S = -θ ⊙ Hg with g = ∇L(logits/T), returned so that higher means keep.

  The paper removes the weights with the *highest* S (``prune='highest'``, the default: we return -S);
  ``prune='lowest'`` returns S itself, for the variant that removes the lowest.
  Hg is a Hessian-vector product: the JVP of the gradient along g (g held constant). With ``selected``
  (a pytree of bools), g and H are taken over the selected (prunable) leaves only, the others held
  fixed — the SynFlow authors' reference implementation; their scores are 0. Without it, over all
  parameters (biases, BatchNorm scales too), as the GraSP paper's equations read.
  """
  if prune not in ('highest', 'lowest'):
    raise PrunejaxError(f"grasp prune={prune!r} must be 'highest' or 'lowest'.")
  leaves, treedef = jax.tree.flatten(params)
  flags = [True] * len(leaves) if selected is None else [bool(f) for f in jax.tree.leaves(selected)]
  chosen = [leaf for leaf, f in zip(leaves, flags) if f]

  def with_chosen(values):
    values = iter(values)
    return jax.tree.unflatten(treedef, [next(values) if f else leaf for leaf, f in zip(leaves, flags)])

  grad_fn = jax.grad(lambda values: loss_at_temperature(with_chosen(values), temperature))
  g = jax.lax.stop_gradient(grad_fn(chosen))
  _, hg = jax.jvp(grad_fn, (chosen,), (g,))
  sign = -1.0 if prune == 'lowest' else 1.0  # S = -θ⊙Hg; 'highest' returns -S = θ⊙Hg
  scores = iter([sign * p * h for p, h in zip(chosen, hg)])
  return jax.tree.unflatten(treedef, [next(scores) if f else jnp.zeros_like(leaf)
                                      for leaf, f in zip(leaves, flags)])


SYNFLOW_PRECISIONS = ('float64', 'scaled_float32')


def synflow_scores(forward: Callable, params, input_shape, precision: str = 'float64'):
  """|θ ⊙ ∂R/∂θ| with R = Σ forward(|θ|, 𝟙): data-free synaptic flow.

  Saturating caps (``min`` against a constant: ReLU6) are evaluated as the identity (``unsaturated``): a
  capped activation's zero gradient would zero every score upstream of it.
  ``float64``: computed in float64 where enabled (``jax.enable_x64``), else float32, which overflows in
  deep nets. ``scaled_float32``: float32 with every tensor carried as mantissa · 2^exponent
  (``scaled_eval``): the float64 ranking without float64 (TPUs have none). The scores come out divided by
  one power of two, which no mask depends on: in float64 and scaled float32 the one at or below R, since
  no score exceeds R — R is a sum of products of |θ| in which each weight appears at most once, and a
  score θ ∂R/∂θ is the part of R whose products hold θ — so none overflows float32 (R is ~10⁷⁷ in
  ResNet-56). That holds for the network SynFlow scores at initialisation; a forward with negative
  constants (a trained BatchNorm's running mean) can break it. In plain float32, where R itself may
  overflow, the largest score's.
  """
  if precision not in SYNFLOW_PRECISIONS:
    raise PrunejaxError(f'synflow precision={precision!r} must be one of {SYNFLOW_PRECISIONS}.')
  forward = synflow_network(forward)
  ones_like = lambda dtype: jnp.ones((1,) + tuple(input_shape), dtype)
  if precision == 'scaled_float32':  # R = total · 2^exponent: the gradient is R's divided by 2^exponent
    abs_params = jax.tree.map(lambda p: jnp.abs(p).astype(jnp.float32), params)
    mantissa = lambda p: jnp.sum(scaled_eval(forward, p, ones_like(jnp.float32))[0])
    total, grads = jax.value_and_grad(mantissa)(abs_params)
  else:
    dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    abs_params = jax.tree.map(lambda p: jnp.abs(p).astype(dtype), params)
    total, grads = jax.value_and_grad(lambda p: jnp.sum(forward(p, ones_like(dtype))))(abs_params)
  # Scaled by R's power of two rather than the largest score's, which takes one more pass over every
  # score. The bound is chosen at trace time: a lax.cond between the two is slower than either.
  scores = lambda: [jnp.abs(p * g) for p, g in zip(jax.tree.leaves(abs_params), jax.tree.leaves(grads))]
  bound = total
  if precision == 'float64' and total.dtype == jnp.float32:
    bound = jnp.max(jnp.stack([jnp.max(s) for s in scores()]))
  floor_log2 = jnp.where(bound > 0, jnp.floor(jnp.log2(jnp.where(bound > 0, bound, 1.0))), 0.0)
  # ldexp makes the power of two exactly (exp2 of a large negative integer is not exact in float32);
  # once, on a scalar: applied to every score it is far slower.
  scale = jnp.ldexp(jnp.ones((), bound.dtype), -floor_log2.astype(jnp.int32))
  return jax.tree.unflatten(jax.tree.structure(grads), [(s * scale).astype(jnp.float32) for s in scores()])


def synflow_network(forward: Callable) -> Callable:
  """The forward SynFlow differentiates: saturating caps removed (R is defined on the linear network;
  ReLU6's cap would zero every score upstream) and convolutions as products (``conv_taps``: XLA CPU's
  batch-1 convolution gradients are slow)."""
  return convolutions_as_taps(without_saturation(forward))


def synflow_round(forward, params, masks, input_shape, selected, sparsity: float, fraction,
                  densities=None, precision: str = 'float64'):
  """One SynFlow round: the masked network's scores (pruned entries stay pruned), then keep
  (1 - sparsity)^fraction with one global threshold, or, given per-leaf ``densities``, density^fraction."""
  scores = synflow_scores(forward, apply_masks(params, masks), input_shape, precision)
  scores = jax.tree.map(lambda m, s: s if m is None else jnp.where(m, s, -1.0), masks, scores,
                        is_leaf=lambda x: x is None)
  if densities is None:
    return masks_global(scores, selected, 1.0 - (1.0 - sparsity) ** fraction)
  return masks_layerwise(scores, jax.tree.map(lambda d: d ** fraction, densities))


def synflow_fraction(round_index, rounds: int):
  """The share of the way to the target sparsity after round ``round_index`` (0-based): (r + 1) / rounds."""
  return (round_index + 1.0) / rounds


def synflow_masks(forward, params, input_shape, selected, sparsity: float, rounds: int = 100,
                  densities=None, precision: str = 'float64'):
  """Iterative SynFlow in one traced loop: ``rounds`` of ``synflow_round`` from all-kept masks."""
  def one_round(r, masks):
    return synflow_round(forward, params, masks, input_shape, selected, sparsity,
                         synflow_fraction(r, rounds), densities, precision)

  return jax.lax.fori_loop(0, rounds, one_round, ones_masks(params, selected))


@dataclasses.dataclass(frozen=True)
class ScoreContext:
  """What a scorer may use: a loss on the score batch, a forward pass, a key, the input shape, and
  which leaves are prunable."""
  loss_fn: Callable | None = None  # params -> scalar
  loss_at_temperature: Callable | None = None  # (params, T) -> scalar
  forward: Callable | None = None  # (params, x) -> outputs, eval mode
  key: jax.Array | None = None
  input_shape: tuple[int, ...] = ()
  selected: Any = None  # pytree of bools: the prunable leaves


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
  over: str = 'prunable'  # g and Hg over the prunable leaves (the reference code) or 'all' parameters

  def scores(self, params, context):
    if self.over not in ('prunable', 'all'):
      raise PrunejaxError(f"grasp over={self.over!r} must be 'prunable' or 'all'.")
    selected = context.selected if self.over == 'prunable' else None
    return grasp(context.loss_at_temperature, params, self.temperature, self.prune, selected)


@register_scorer
@dataclasses.dataclass(frozen=True)
class SynFlow(Scorer):
  name = 'synflow'
  rounds: int = 100
  precision: str = 'float64'  # or 'scaled_float32' (see synflow_scores)

  def scores(self, params, context):
    return synflow_scores(context.forward, params, context.input_shape, self.precision)

  def masks(self, params, context, selected, sparsity, densities=None):
    return synflow_masks(context.forward, params, context.input_shape, selected, sparsity, self.rounds,
                         densities, self.precision)

  def round(self, params, masks, round_index, context, selected, sparsity, densities=None):
    """Round ``round_index`` of ``masks``' loop, for callers that drive the rounds themselves."""
    return synflow_round(context.forward, params, masks, context.input_shape, selected, sparsity,
                         synflow_fraction(round_index, self.rounds), densities, self.precision)
