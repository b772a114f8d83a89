"""The persistent compilation cache: on by default, directed or switched off by PRUNEJAX_COMPILE_CACHE, and
a second process reads the executables the first compiled (counted by the compile clock as hits)."""

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

PROGRAM = """
import jax, jax.numpy as jnp
from prunejax.edge import compile_clock
from prunejax.train import compile_cache
print('dir', compile_cache.enable())
with compile_clock() as clock:
  jax.jit(lambda x: jnp.tanh(x @ x.T).sum())(jnp.ones((64, 64))).block_until_ready()
print('compiles', clock.compiles, 'hits', clock.cache_hits)
"""


def run(cache: str) -> dict[str, str]:
  env = {**os.environ, 'PRUNEJAX_COMPILE_CACHE': cache, 'PYTHONPATH': str(REPO)}
  out = subprocess.run([sys.executable, '-c', PROGRAM], env=env, capture_output=True, text=True, check=True).stdout
  return {line.split()[0]: line.split()[1:] for line in out.splitlines()}


@pytest.mark.slow
def test_a_second_process_reads_what_the_first_compiled(tmp_path):
  first, second = run(str(tmp_path / 'xla')), run(str(tmp_path / 'xla'))
  assert first['dir'] == [str(tmp_path / 'xla')] and first['compiles'][2] == '0'  # compiled: a miss
  assert any((tmp_path / 'xla').iterdir())
  assert int(second['compiles'][2]) >= 1  # read back (tiny eager ops may fall under JAX's entry size)


@pytest.mark.slow
def test_off_disables_it(tmp_path):
  assert run('off')['dir'] == ['None']
