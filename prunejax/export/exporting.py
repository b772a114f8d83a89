"""Exports a finished run's network (dense, masked or shrunk: rebuilt from its checkpoint at its shapes)
to a runtime format, loads the file back in that runtime and checks it against the JAX model on the
real test images, then times it. The exported function takes raw pixels (float32, 0–255, NHWC) and
applies the run's normalisation itself: what a device feeds it."""

import contextlib
import json
import os
import pathlib
import sys
import time

import jax
import ml_collections
import numpy as np
from flax import nnx

from prunejax import edge
from prunejax.errors import PrunejaxError
from prunejax.export.stablehlo import StableHloRunner, to_stablehlo
from prunejax.export.tflite import TfliteRunner, to_tflite
from prunejax.train import Run, finished_checkpoint, serving_fn

FORMATS = ('stablehlo', 'tflite')
SUFFIX = {'stablehlo': '.stablehlo', 'tflite': '.tflite'}
FLOAT_AGREEMENT, INT8_AGREEMENT = 0.999, 0.9  # top-1 agreement below which an export is refused


def finished_run(workdir: pathlib.Path) -> tuple[Run, dict]:
  """The finished run in ``workdir`` at exactly the checkpoint its summary describes (its config from that
  checkpoint's record), without training anything; and that checkpoint's record (number, step, digest)."""
  finished = finished_checkpoint(workdir)
  config = ml_collections.ConfigDict(finished.meta['config'])
  if config.get('adapt') and config.adapt.get('mode') == 'dapr':
    raise PrunejaxError(f'{workdir} is a DaPR search; export its chosen probe, {workdir}/probes/p<N>.')
  run = Run(config, workdir, announce=False, lock=False, checkpoint=(finished.number, finished.meta))
  return run, finished.record


def export_run(workdir: str | pathlib.Path, fmt: str = 'tflite', quantize: bool = False,
               batch: int | None = None, threads: int = 2, repeats: int = 20) -> dict:
  """Writes ``workdir/export/model.<fmt>`` and ``export/<fmt>[_int8]_summary.json``; returns the summary."""
  if fmt not in FORMATS:
    raise PrunejaxError(f'--format {fmt!r} is unknown; choose one of {FORMATS}.')
  if quantize and fmt != 'tflite':
    raise PrunejaxError('--quantize applies to --format tflite (dynamic-range int8 weights).')
  if batch is not None and batch < 1:
    raise PrunejaxError(f'--batch {batch} must be a positive batch size (or leave it out for any batch).')
  workdir = pathlib.Path(workdir)
  run, source = finished_run(workdir)
  defs, params, model_state = run.saved_network()
  run.close()
  fn = serving_fn(nnx.merge(defs.eval, params, model_state), run.splits.mean, run.splits.std)
  shape = run.splits.input_shape
  started = time.perf_counter()
  blob = convert(fn, shape, fmt, batch, quantize)
  seconds = time.perf_counter() - started
  tag = fmt + ('_int8' if quantize else '')
  path = workdir / 'export' / f'model{"_int8" if quantize else ""}{SUFFIX[fmt]}'
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_bytes(blob)
  with native_stderr_silenced():  # the runtimes' C++ lines (e.g. LiteRT's delegate) at their first calls
    runner = TfliteRunner(path.read_bytes(), threads) if fmt == 'tflite' else StableHloRunner(path.read_bytes())
    summary = {'format': tag, 'file': str(path), 'file_bytes': len(blob), 'export_seconds': seconds,
               'model': run.config.model, 'batch': 'any' if batch is None else batch, 'source': source,
               **parity(runner, jax.jit(fn), run.splits.test.images, batch or 500)}
    for size in ((1, 64) if batch is None else (batch,)):
      x = np.zeros((size,) + shape, np.float32)
      if fmt == 'tflite' and batch is None:
        # LiteRT's XNNPACK runs a file resized to a batch slower than one converted at that batch
        # (docs/export.md): both are reported, the fixed one as the latency a deployment at that batch gets.
        summary[f'latency_ms_b{size}_resized'] = 1e3 * edge.median_latency(runner, x, repeats=repeats)
        runner_at_size = TfliteRunner(convert(fn, shape, fmt, size, quantize), threads)
        summary[f'latency_ms_b{size}'] = 1e3 * edge.median_latency(runner_at_size, x, repeats=repeats)
      else:
        summary[f'latency_ms_b{size}'] = 1e3 * edge.median_latency(runner, x, repeats=repeats)
  (workdir / 'export' / f'{tag}_summary.json').write_text(json.dumps(summary, indent=2) + '\n')
  floor = INT8_AGREEMENT if quantize else FLOAT_AGREEMENT
  if summary['top1_agreement'] < floor:
    raise PrunejaxError(f'{path} agrees with the JAX model on only {summary["top1_agreement"]:.2%} of the test '
                        f'images (< {floor:.1%}; max |Δlogit| {summary["max_abs_logit_diff"]:.3g}): the '
                        'conversion is wrong; the file and its summary are kept for inspection.')
  return summary


@contextlib.contextmanager
def native_stderr_silenced():
  """TensorFlow's converter and LiteRT write info and warning lines from C++ straight to file descriptor 2
  (a dozen per conversion, not governed by TF_CPP_MIN_LOG_LEVEL): they go to /dev/null for the block.
  Failures still reach the caller as Python exceptions."""
  sys.stderr.flush()
  saved = os.dup(2)
  try:
    with open(os.devnull, 'w', encoding='utf-8') as null:
      os.dup2(null.fileno(), 2)
    yield
  finally:
    os.dup2(saved, 2)
    os.close(saved)


def convert(fn, shape: tuple[int, ...], fmt: str, batch: int | None = None, quantize: bool = False) -> bytes:
  """The file's bytes of ``fn(pixels) -> logits`` in ``fmt``; an op the format cannot express is one line."""
  try:
    with native_stderr_silenced():
      return to_tflite(fn, shape, batch, quantize) if fmt == 'tflite' else to_stablehlo(fn, shape, batch)
  except PrunejaxError:  # already one actionable line (a missing extra)
    raise
  except Exception as e:  # pylint: disable=broad-except  # converters raise many types (ConverterError, ...)
    first_line = next((line for line in str(e).splitlines() if line.strip()), '')[:240]
    other = 'stablehlo (every XLA op)' if fmt == 'tflite' else 'tflite'
    raise PrunejaxError(f'the {fmt} converter cannot express this network ({type(e).__name__}: {first_line}); '
                        f'try --format {other}, or replace the op it names.') from e


def parity(runner, reference, images: np.ndarray, batch: int) -> dict:
  """Max |Δlogit| and top-1 agreement of ``runner`` against ``reference`` (a function, or the logits it
  gives, computed once for several runners) over ``images`` (padded to whole batches)."""
  worst, agree = 0.0, 0
  for start in range(0, len(images), batch):
    chunk = np.asarray(images[start:start + batch], np.float32)
    valid = len(chunk)
    chunk = np.concatenate([chunk, np.zeros((batch - valid,) + chunk.shape[1:], np.float32)])
    expected = (reference[start:start + valid] if isinstance(reference, np.ndarray)
                else np.asarray(reference(chunk))[:valid])
    got = runner(chunk)[:valid]
    worst = max(worst, float(np.abs(got - expected).max()))
    agree += int((got.argmax(-1) == expected.argmax(-1)).sum())
  return {'max_abs_logit_diff': worst, 'top1_agreement': agree / len(images), 'parity_images': len(images)}
