"""A function evaluated with each convolution written as one matrix product over its kernel's taps (im2col).

SynFlow differentiates the whole network on one all-ones input every round. At batch 1 XLA's CPU
convolution gradients are slow where the spatial size is small and the channels many: the input gradient
of VGG-16's 512-channel layers at 3×3 and 1×1 takes several times as long as their forward (it reverses
and transposes the kernel every call). Here a convolution is its padded input's shifted windows
(one per tap, side by side) times the kernel's rows; autodiff turns that into plain matrix products and
pads, and a tap that only ever reads padding (the off-centre taps of a 3×3 kernel on a 1×1 input) is left
out, since its products are all zero. Same values up to the order of the sums; benchmarks/benchmark_synflow.py
times the all-ones gradient this serves."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np

from prunejax.core.jaxprs import evaluate_with


def convolutions_as_taps(fn):
  """``fn`` with every ungrouped, undilated-input ``conv_general_dilated`` evaluated by ``conv_as_taps``."""
  return evaluate_with(fn, _rewrite)


def convolutions_left(fn, *args) -> int:
  """How many convolutions ``convolutions_as_taps(fn)`` still holds at ``args`` (grouped or depthwise ones,
  those with input dilation): XLA evaluates them as it would have."""
  return _convolutions(jax.make_jaxpr(convolutions_as_taps(fn))(*args).jaxpr)


def _convolutions(jaxpr) -> int:
  """Convolution equations in ``jaxpr`` and in the jaxprs its equations carry (loops, branches)."""
  count = 0
  for eqn in jaxpr.eqns:
    count += eqn.primitive.name == 'conv_general_dilated'
    for value in eqn.params.values():
      for inner in value if isinstance(value, (tuple, list)) else [value]:
        inner = getattr(inner, 'jaxpr', inner)
        if hasattr(inner, 'eqns'):
          count += _convolutions(inner)
  return count


def _rewrite(eqn, values, is_constant):
  del is_constant
  params = eqn.params
  if (eqn.primitive.name != 'conv_general_dilated' or params['feature_group_count'] != 1
      or params['batch_group_count'] != 1 or any(d != 1 for d in params['lhs_dilation'])):
    return None
  return [conv_as_taps(*values, window_strides=params['window_strides'], padding=params['padding'],
                       rhs_dilation=params['rhs_dilation'], dimension_numbers=params['dimension_numbers'],
                       precision=params['precision'], preferred_element_type=params['preferred_element_type'])]


def conv_as_taps(x, w, *, window_strides, padding, rhs_dilation, dimension_numbers, precision=None,
                 preferred_element_type=None):
  """``lax.conv_general_dilated(x, w, ...)`` (no input dilation, one feature group) as one product: the
  strided windows of the padded input, one per kernel tap that reads some input, times those taps' rows."""
  lhs_spec, rhs_spec, out_spec = dimension_numbers
  x = jnp.moveaxis(jnp.transpose(x, lhs_spec), 1, -1)  # batch, spatial..., in
  w = jnp.transpose(w, (*rhs_spec[2:], rhs_spec[1], rhs_spec[0]))  # spatial..., in, out (HWIO: as is)
  spatial_in, kernel = x.shape[1:-1], w.shape[:-2]
  zero = jnp.zeros((), x.dtype)
  padded = jax.lax.pad(x, zero, [(0, 0, 0)] + [(lo, hi, 0) for lo, hi in padding] + [(0, 0, 0)])
  spans = [(k - 1) * d + 1 for k, d in zip(kernel, rhs_dilation)]
  out_size = [(p - span) // s + 1 for p, span, s in zip(padded.shape[1:-1], spans, window_strides)]
  taps = [tap for tap in itertools.product(*map(range, kernel))
          if all(_reads_input(t * d, s, n, lo, size) for t, d, s, n, (lo, _), size
                 in zip(tap, rhs_dilation, window_strides, out_size, padding, spatial_in))]
  windows = []
  for tap in taps:
    starts = [t * d for t, d in zip(tap, rhs_dilation)]
    limits = [start + (n - 1) * s + 1 for start, n, s in zip(starts, out_size, window_strides)]
    windows.append(jax.lax.slice(padded, [0, *starts, 0], [padded.shape[0], *limits, padded.shape[-1]],
                                 [1, *window_strides, 1]))
  out_shape = (x.shape[0], *out_size, w.shape[-1])
  if not taps:  # the kernel never meets the input
    return _to_spec(jnp.zeros(out_shape, preferred_element_type or jnp.result_type(x, w)), out_spec)
  # One product: the taps' windows side by side (tap-major, channel-minor) times the kernel's rows in the
  # same order — all of it reshaped when no tap is skipped, so its gradient is one product too.
  patches = jnp.concatenate(windows, axis=-1).reshape(-1, len(taps) * x.shape[-1])
  rows = (w.reshape(-1, w.shape[-1]) if len(taps) == np.prod(kernel)
          else jnp.concatenate([w[tap] for tap in taps], axis=0))
  total = jax.lax.dot_general(patches, rows, (((1,), (0,)), ((), ())), precision=precision,
                              preferred_element_type=preferred_element_type)
  return _to_spec(total.reshape(out_shape), out_spec)


def _to_spec(channels_last: jax.Array, out_spec) -> jax.Array:
  """(batch, spatial..., out) laid out as ``out_spec`` says."""
  canonical = jnp.moveaxis(channels_last, -1, 1)  # batch, out, spatial...
  return jnp.transpose(canonical, np.argsort(out_spec))


def _reads_input(start: int, stride: int, count: int, pad_low: int, size: int) -> bool:
  """Whether padded indices start, start + stride, ... (count of them) include one inside the input."""
  return any(0 <= start + j * stride - pad_low < size for j in range(count))
