"""Float32 evaluation of a function whose values overflow float32, with every tensor carried as a mantissa
and a shared power-of-two exponent: x = m · 2^e, e a scalar.

SynFlow's R = Σ f(𝟙) on |θ| grows like the product of the layers' gains (about 10⁷⁷ for ResNet-56), so
it needs float64 — which TPUs lack. Rescaling the *parameters* cannot fix it: a residual block adds its
branch to its input, and scaling the branch's weights changes their ratio, hence the scores' ranking.
Scaling *tensors* can: the function is traced to a jaxpr and evaluated equation by equation — products
(``mul``, ``dot_general``, convolutions) add exponents and renormalise the mantissa to max |m| ∈ [1, 2);
sums, maxima, concatenations and comparisons first align their operands to the largest exponent;
linear ops (reshape, pooling, sums over axes, slicing...) keep it. Exponents are stop-gradient
constants, so ∂m/∂θ = 2^−e · ∂f/∂θ exactly: gradients of the mantissa rank parameters as the float64
gradients would, up to float32 rounding. Other primitives (exp, tanh...) are computed on the plain
value m · 2^e, which may overflow as plain float32 would.
"""

import jax
import jax.numpy as jnp
from jax.extend import core as jex_core

from prunejax.core.jaxprs import called_jaxpr
from prunejax.errors import PrunejaxError

PRODUCTS = {'mul', 'dot_general', 'conv_general_dilated'}
KEEPS_EXPONENT = {
    'neg', 'abs', 'reshape', 'broadcast_in_dim', 'transpose', 'squeeze', 'expand_dims', 'reduce_sum',
    'reduce_max', 'reduce_min', 'reduce_window_max', 'reduce_window_min', 'reduce_window_sum', 'slice',
    'rev', 'copy', 'copy_p', 'cumsum', 'cummax', 'cummin', 'reduce_precision',
}
ALIGNED = {'add', 'sub', 'add_any', 'max', 'min', 'concatenate', 'pad', 'clamp'}
COMPARISONS = {'eq', 'ne', 'gt', 'ge', 'lt', 'le'}
_EMPTY = -1e30  # the exponent of an all-zero tensor: aligns to anything


def scaled_eval(fn, *args) -> tuple[jax.Array, jax.Array]:
  """(m, e) with ``fn(*args) == m · 2^e``, computed in the arguments' float32 without overflow.

  ``fn`` must return one array; jit- and grad-compatible (e is a stop-gradient constant).
  """
  closed = jax.make_jaxpr(fn)(*args)
  if len(closed.jaxpr.outvars) != 1:
    raise PrunejaxError(f'scaled_eval needs a function with one output; this one has {len(closed.jaxpr.outvars)}.')
  inputs = [_plain(x) for x in jax.tree.leaves(args)]
  (out,) = _eval(closed.jaxpr, [_plain(c) for c in closed.consts], inputs)
  m, e = _normalised(out)
  return m, e


def _plain(x):
  x = jnp.asarray(x)
  return (x, jnp.zeros((), jnp.float32))


def _floating(m) -> bool:
  return jnp.issubdtype(m.dtype, jnp.floating)


def _normalised(value):
  """(m, e) with max |m| in [1, 2) (or m all zero and e = _EMPTY); same value."""
  m, e = value
  if not _floating(m):
    return value
  peak = jax.lax.stop_gradient(jnp.max(jnp.abs(m)).astype(jnp.float32))
  shift = jnp.where(peak > 0, jnp.floor(jnp.log2(jnp.where(peak > 0, peak, 1.0))), 0.0)
  return m * jnp.exp2(-shift).astype(m.dtype), jnp.where(peak > 0, e + shift, _EMPTY)


def _aligned(values):
  """Mantissas of ``values`` at their largest exponent (floats only), and that exponent."""
  normal = [_normalised(v) for v in values]
  exponents = [e for m, e in normal if _floating(m)]
  top = jax.lax.stop_gradient(jnp.max(jnp.stack(exponents))) if exponents else jnp.zeros((), jnp.float32)
  mantissas = [m * jnp.exp2(e - top).astype(m.dtype) if _floating(m) else m for m, e in normal]
  return mantissas, top


def _materialised(value):
  m, e = value
  return m * jnp.exp2(e).astype(m.dtype) if _floating(m) else m


def _eval(jaxpr, consts, inputs):
  env = {}
  read = lambda v: _plain(v.val) if isinstance(v, jex_core.Literal) else env[v]
  for var, value in zip(jaxpr.constvars, consts):
    env[var] = value
  for var, value in zip(jaxpr.invars, inputs):
    env[var] = value
  for eqn in jaxpr.eqns:
    values = [read(v) for v in eqn.invars]
    outputs = _apply(eqn, values)
    for var, value in zip(eqn.outvars, outputs):
      env[var] = value
  return [read(v) for v in jaxpr.outvars]


def _apply(eqn, values):
  name, params = eqn.primitive.name, eqn.params
  bind = lambda *ms: eqn.primitive.bind(*ms, **params)
  single = lambda out, e: [(out, e)] if not eqn.primitive.multiple_results else [(o, e) for o in out]
  called = called_jaxpr(eqn)
  if called is not None:
    inner, inner_consts = called
    return _eval(inner, [_plain(c) for c in inner_consts], values)
  if name in PRODUCTS and all(_floating(m) for m, _ in values):
    (m1, e1), (m2, e2) = (_normalised(v) for v in values)
    return [_normalised((bind(m1, m2), e1 + e2))]
  if name == 'div' and all(_floating(m) for m, _ in values):
    (m1, e1), (m2, e2) = (_normalised(v) for v in values)
    return [(bind(m1, m2), e1 - e2)]
  if name in KEEPS_EXPONENT or (name == 'convert_element_type' and jnp.issubdtype(params['new_dtype'], jnp.floating)):
    (m, e), rest = values[0], [_materialised(v) for v in values[1:]]
    return single(bind(m, *rest), e)
  if name in ('dynamic_slice', 'gather', 'dynamic_update_slice') and _floating(values[0][0]):
    if name == 'dynamic_update_slice':
      (m, update), top = _aligned(values[:2])
      return [(bind(m, update, *[_materialised(v) for v in values[2:]]), top)]
    (m, e) = values[0]
    return single(bind(m, *[_materialised(v) for v in values[1:]]), e)
  if name in ALIGNED:
    mantissas, top = _aligned(values)
    return single(bind(*mantissas), top)
  if name == 'select_n':
    mantissas, top = _aligned(values[1:])
    return [(bind(_materialised(values[0]), *mantissas), top)]
  if name in COMPARISONS:
    mantissas, _ = _aligned(values)
    return [(bind(*mantissas), jnp.zeros((), jnp.float32))]
  if name == 'sign':
    return [(bind(values[0][0]), jnp.zeros((), jnp.float32))]
  if name == 'integer_pow':
    m, e = _normalised(values[0])
    return [(bind(m), e * params['y'])]
  if name in ('sqrt', 'rsqrt'):
    m, e = _normalised(values[0])
    return [(bind(m), e / 2 if name == 'sqrt' else -e / 2)]
  if any(k in params for k in ('jaxpr', 'call_jaxpr', 'branches', 'body_jaxpr')):
    raise PrunejaxError(f'scaled_eval cannot evaluate {name!r} (control flow); use float64 for this model.')
  out = bind(*[_materialised(v) for v in values])  # anything else, on plain values
  return single(out, jnp.zeros((), jnp.float32))
