import jax
import jax.numpy as jnp

from prunejax import edge


def test_compile_clock_counts_new_compiles_and_not_cached_calls():
  double = jax.jit(lambda x: x * 2)
  with edge.compile_clock() as first:
    double(jnp.ones(7)).block_until_ready()
  with edge.compile_clock() as cached:
    double(jnp.ones(7)).block_until_ready()
  with edge.compile_clock() as new_shape:
    double(jnp.ones(9)).block_until_ready()
  assert first.compiles >= 1 and first.seconds > 0
  assert cached.compiles == 0 and cached.seconds == 0
  assert new_shape.compiles >= 1


def test_compile_clock_stops_listening_after_its_block():
  with edge.compile_clock() as clock:
    pass
  jax.jit(lambda x: x + 3)(jnp.ones(5)).block_until_ready()
  assert clock.compiles == 0
