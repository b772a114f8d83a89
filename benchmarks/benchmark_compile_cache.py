"""JAX's persistent compilation cache (prunejax/train/compile_cache.py) on a user's wait: the same command
run as a fresh process with the cache off, with an empty cache (the first run) and with the cache the
first run filled (every later run). Default: a Reconvene production of VGG-16 (SynFlow, no training), the
command whose compiles dominate; any config works.

python benchmarks/benchmark_compile_cache.py [--config configs/reconvene_vgg16_fashion_mnist.py]
    [--override=--config.reconvene.train=False] [--repeats 3]
Prints wall time per case (process start to exit, median of --repeats) and the summary's compile and
produce seconds, with ratios against the cache-off run.
"""

import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app, flags

import results_file  # benchmarks/results_file.py: this script's section of RESULTS.md

REPO = pathlib.Path(__file__).resolve().parent.parent
_CONFIG = flags.DEFINE_string('config', 'configs/reconvene_vgg16_fashion_mnist.py', 'The config to run.')
_OVERRIDES = flags.DEFINE_list('override', ['--config.reconvene.train=False', '--config.plots=False'],
                               'Flags passed to prunejax-train after --config.')
_REPEATS = flags.DEFINE_integer('repeats', 3, 'Runs per case (median reported).')


def run_once(cache: str, workdir: pathlib.Path) -> dict:
  env = {**os.environ, 'PRUNEJAX_COMPILE_CACHE': cache}
  command = [sys.executable, str(REPO / 'scripts' / 'train.py'), f'--config={REPO / _CONFIG.value}',
             f'--workdir={workdir}', '--config.progress_bar=False', *_OVERRIDES.value]
  started = time.perf_counter()
  subprocess.run(command, env=env, check=True, capture_output=True, cwd=REPO)
  wall = time.perf_counter() - started
  summary = json.loads((workdir / 'summary.json').read_text())
  return {'wall': wall, 'compile': summary.get('compile_seconds', float('nan')),
          'produce': summary.get('produce_seconds_with_compile', float('nan'))}


def main(argv):
  del argv
  with results_file.recorded('compile_cache'), tempfile.TemporaryDirectory() as scratch:
    scratch = pathlib.Path(scratch)
    cases = {'off': [], 'empty cache (first run)': [], 'filled cache (later runs)': []}
    for repeat in range(_REPEATS.value):
      cache = scratch / f'cache{repeat}'  # a new empty cache per repeat, then filled by it
      for case, setting in (('off', 'off'), ('empty cache (first run)', str(cache)),
                            ('filled cache (later runs)', str(cache))):
        cases[case].append(run_once(setting, scratch / f'run{repeat}_{case.split()[0]}'))
    print(f'{_CONFIG.value} {" ".join(_OVERRIDES.value)}, fresh process per run, median of {_REPEATS.value}\n')
    print('| cache | wall s | wall / off | compile s | produce s (compiles included) | produce / off |')
    print('| --- | --- | --- | --- | --- | --- |')
    off = {key: statistics.median(r[key] for r in cases['off']) for key in ('wall', 'produce')}
    for case, runs in cases.items():
      median = lambda key: statistics.median(r[key] for r in runs)
      print(f'| {case} | {median("wall"):.1f} | {median("wall") / off["wall"]:.2f} | {median("compile"):.2f} | '
            f'{median("produce"):.2f} | {median("produce") / off["produce"]:.2f} |')
    print('\nwall: process start to exit (imports, data, model, production, latency measurement, summary); '
          'compile: executables obtained, compiled or read from the cache; produce: scoring to shrunk '
          'network, compiles included (produce_seconds_with_compile).')


if __name__ == '__main__':
  app.run(main)
