"""Does every registry model, dense and L1-pruned (half of every prunable channel group, physically
shrunk), export to StableHLO and TFLite with the JAX model's outputs? Parity on the Fashion-MNIST test set.

python benchmarks/export_parity.py [--models lenet5,resnet20,...] [--images 10000] [--heavy_images 2000] [--out ...]
Weights are the models' seeded initialisation (parity concerns the conversion, not training). Prints a
table of max |Δlogit| and top-1 agreement per model, variant and format (int8 TFLite apart) and writes JSON.
"""

import jax
import numpy as np
from absl import app, flags, logging

from prunejax import models
from prunejax.data import sources
from prunejax.report import summary_table, write_rows
import results_file  # benchmarks/results_file.py: this script's section of RESULTS.md

_MODELS = flags.DEFINE_list('models', None, 'Registry models (default: all of them).')
_IMAGES = flags.DEFINE_integer('images', 10_000, 'Test images compared (the whole test set by default).')
_HEAVY = flags.DEFINE_list('heavy', ['mobilenetv2', 'resnet56', 'vgg11', 'vgg16'],
                           'Models compared on --heavy_images only (each pass over 10,000 images takes minutes).')
_HEAVY_IMAGES = flags.DEFINE_integer('heavy_images', 2_000, 'Test images compared for the --heavy models.')
_OUT = flags.DEFINE_string('out', 'runs/benchmarks/export_parity.json', 'Where to write the JSON rows.')
FORMATS = {'stablehlo': ('stablehlo', False), 'tflite': ('tflite', False), 'tflite_int8': ('tflite', True)}
_FORMATS = flags.DEFINE_list('formats', list(FORMATS), f'Formats compared, among {list(FORMATS)}.')


def rows_for(name: str, images: np.ndarray, mean: float, std: float) -> list[dict]:
  from prunejax import export  # pylint: disable=g-import-not-at-top
  shape = images.shape[1:]
  fns, flops_ratio = export.dense_and_pruned(name, shape, mean=(mean,), std=(std,))
  rows = []
  for variant, fn in zip(('dense', 'pruned'), fns):
    jitted = jax.jit(fn)
    reference = np.concatenate([np.asarray(jitted(images[i:i + 500])) for i in range(0, len(images), 500)])
    for fmt, quantize in (FORMATS[name] for name in _FORMATS.value):
      blob = (export.to_tflite(fn, shape, None, quantize) if fmt == 'tflite' else
              export.to_stablehlo(fn, shape, None))
      runner = export.TfliteRunner(blob, 2) if fmt == 'tflite' else export.StableHloRunner(blob)
      rows.append({'model': name, 'variant': variant, 'format': fmt + ('_int8' if quantize else ''),
                   'file_kib': len(blob) / 1024, 'flops_ratio': flops_ratio if variant == 'pruned' else 1.0,
                   **export.parity(runner, reference, images, 500)})
      print(rows[-1], flush=True)
  return rows


COLUMNS = (('model', 'model', '{}'), ('variant', 'variant', '{}'), ('format', 'format', '{}'),
           ('file_kib', 'KiB', '{:,.0f}'), ('max_abs_logit_diff', 'max |Δlogit|', '{:.2e}'),
           ('top1_agreement', 'top-1 agreement', '{:.2%}'), ('parity_images', 'images', '{:,}'))


def main(argv):
  del argv
  logging.set_verbosity(logging.ERROR)
  data = sources.load_dataset('fashion_mnist')
  images = np.asarray(data.test_images[:_IMAGES.value], np.float32)
  mean, std = float(data.train_images.mean()) / 255, float(data.train_images.std()) / 255
  rows = []
  for name in _MODELS.value or models.model_names():
    count = _HEAVY_IMAGES.value if name in _HEAVY.value else _IMAGES.value
    rows += rows_for(name, images[:count], mean, std)
  print(summary_table(rows, COLUMNS))
  failing = [r for r in rows if r['top1_agreement'] < (0.9 if r['format'].endswith('int8') else 0.999)]
  print(f'{len(rows) - len(failing)} of {len(rows)} exports meet the agreement floor (99.9%; int8 90%)'
        + (f'; below it: {[(r["model"], r["variant"], r["format"]) for r in failing]}' if failing else ''))
  write_rows(rows, _OUT.value)


if __name__ == '__main__':
  with results_file.recorded('export_parity'):
    app.run(main)
