"""What a model costs on a device, from XLA's own numbers: parameters, FLOPs, compiled memory."""

import os

import jax
import jax.numpy as jnp
import numpy as np

from prunejax.edge.latency import median_latency


def count_params(params) -> tuple[int, int]:
  """(total, non-zero) entries over a parameter pytree (counted on the host: an eager count per leaf
  compiles once per leaf shape, seconds on MobileNetV2)."""
  leaves = jax.tree.leaves(params)
  total = sum(int(np.prod(x.shape)) for x in leaves)
  nonzero = sum(int(np.count_nonzero(np.asarray(x))) for x in leaves)
  return total, nonzero


def flops(compiled) -> float:
  """FLOPs of a compiled computation, from XLA's cost analysis."""
  analysis = compiled.cost_analysis()
  if isinstance(analysis, (list, tuple)):  # older jaxlibs return one dict per device
    analysis = analysis[0]
  return float(analysis.get('flops', 0.0))


def compiled_bytes(compiled) -> int:
  """Bytes a compiled computation needs: arguments + outputs + temporaries, less donated aliases."""
  stats = compiled.memory_analysis()
  return int(stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
             - stats.alias_size_in_bytes)


def forward_flops_per_example(apply_fn, params, model_state, input_shape) -> float:
  """FLOPs of one forward pass of ``apply_fn(params, model_state, x)`` on a single example."""
  x = jax.ShapeDtypeStruct((1,) + tuple(input_shape), jnp.float32)
  return flops(jax.jit(apply_fn).lower(params, model_state, x).compile())


def profile_model(apply_fn, params, model_state, input_shape, batch_sizes=(1, 64),
                  repeats: int = 10) -> dict[str, float]:
  """The edge figures of a model: parameters and bytes, FLOPs, compiled inference memory and median
  latency per batch size, under the CPUs this process may use (see ``limit_cpu_threads``)."""
  total, nonzero = count_params(params)
  figures = {'params_total': total, 'params_nonzero': nonzero,
             'param_bytes': sum(int(x.nbytes) for x in jax.tree.leaves(params)),
             'flops_per_example': forward_flops_per_example(apply_fn, params, model_state, input_shape),
             'cpu_threads': len(os.sched_getaffinity(0))}
  for batch in batch_sizes:
    x = jnp.zeros((batch,) + tuple(input_shape), jnp.float32)
    compiled = jax.jit(apply_fn).lower(params, model_state, x).compile()
    figures[f'inference_bytes_b{batch}'] = compiled_bytes(compiled)
    figures[f'latency_ms_b{batch}'] = 1e3 * median_latency(compiled, params, model_state, x, repeats=repeats)
  return figures
