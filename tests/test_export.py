"""Export: the files load in their runtimes and agree with the JAX model on real test images."""

import json

import jax.numpy as jnp
import pytest

from prunejax import export, methods, structure
from prunejax.errors import PrunejaxError
from prunejax.train import Run, write_summary


def test_stablehlo_and_tflite_files_agree_with_jax(tiny_config, tmp_path):
  methods.train_and_evaluate(tiny_config, tmp_path)
  for fmt in ('stablehlo', 'tflite'):
    summary = export.export_run(tmp_path, fmt, repeats=3)
    assert summary['top1_agreement'] >= 0.999 and summary['max_abs_logit_diff'] < 1e-3, summary
    assert summary['parity_images'] == 200 and summary['file_bytes'] > 50_610 * 4 * 0.9
    assert json.loads((tmp_path / 'export' / f'{fmt}_summary.json').read_text()) == summary
    # A dynamic-batch TFLite file is also timed as converted at each batch (LiteRT resizes slowly).
    assert {'latency_ms_b1', 'latency_ms_b64'} <= set(summary)
    assert ({'latency_ms_b1_resized', 'latency_ms_b64_resized'} <= set(summary)) == (fmt == 'tflite')
  int8 = export.export_run(tmp_path, 'tflite', quantize=True, repeats=3)
  assert int8['file_bytes'] < summary['file_bytes'] / 2 and int8['top1_agreement'] > 0.9


def test_a_shrunk_network_exports_at_its_shapes(tiny_config, tmp_path):
  tiny_config.method = 'l1_half_export_test'
  summary = methods.train_and_evaluate(tiny_config, tmp_path)
  exported = export.export_run(tmp_path, 'tflite', batch=8, repeats=3)
  assert exported['top1_agreement'] >= 0.999 and 'latency_ms_b8' in exported
  assert exported['file_bytes'] < 4 * summary['params_total'] * 1.2  # the shrunk weights, not the dense ones


def test_a_shrunk_transformer_exports_with_any_batch(tiny_config, tmp_path):
  tiny_config.method, tiny_config.model = 'l1_half_export_test', 'vit_tiny'
  tiny_config.model_kwargs = {'dim': 16, 'depth': 1, 'heads': 4, 'patch': 4}
  methods.train_and_evaluate(tiny_config, tmp_path)
  for fmt in ('tflite', 'stablehlo'):  # heads, head dims, MLP units and the stream halved
    exported = export.export_run(tmp_path, fmt, repeats=2)
    assert exported['top1_agreement'] >= 0.999 and exported['max_abs_logit_diff'] < 1e-3, exported


@methods.register_method('l1_half_export_test')
def _l1_half(run: Run) -> dict:
  run.train('train', epochs=1)
  run.once('prune', lambda: run.shrink(structure.select_channels(
      structure.model_scores(run.model(), run.groups(), 'l1'), run.groups(), ratio=0.5)))
  return write_summary(run, 'l1_half', {})


def test_bad_requests_fail_in_one_line(tmp_path):
  with pytest.raises(PrunejaxError, match='holds no finished run'):
    export.export_run(tmp_path, 'tflite')
  with pytest.raises(PrunejaxError, match="--format 'onnx' is unknown"):
    export.export_run(tmp_path, 'onnx')
  with pytest.raises(PrunejaxError, match='--batch 0 must be a positive batch size'):
    export.export_run(tmp_path, 'tflite', batch=0)


def test_an_op_the_runtime_lacks_is_one_line():
  # A batched matrix inverse: jax2tf's graph for it has a dynamic gather the TFLite converter refuses.
  inverse = lambda x: jnp.linalg.inv(x.reshape(-1, 4, 4) + 3 * jnp.eye(4)).sum((1, 2))[:, None]
  with pytest.raises(PrunejaxError, match=r'the tflite converter cannot express this network \(ConverterError: '
                                          r'.*\); try --format stablehlo'):
    export.convert(inverse, (4, 4, 1), 'tflite')
  assert len(export.convert(inverse, (4, 4, 1), 'stablehlo')) > 0  # StableHLO keeps it


@pytest.mark.filterwarnings('ignore:.*tf.lite.Interpreter is deprecated')
def test_both_interpreters_run_the_same_flatbuffer_alike():
  """The deploy benchmark times LiteRT against TensorFlow's deprecated interpreter on one file."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  blob = export.convert(lambda x: jnp.tanh(x.reshape(x.shape[0], -1) @ jnp.ones((16, 3))), (4, 4, 1), 'tflite')
  x = np.linspace(-1, 1, 2 * 16, dtype=np.float32).reshape(2, 4, 4, 1)
  outputs = [export.TfliteRunner(blob, 1, interpreter)(x) for interpreter in ('litert', 'tensorflow')]
  np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-6)
  np.testing.assert_allclose(outputs[0], np.tanh(x.reshape(2, -1).sum(1, keepdims=True)).repeat(3, 1), rtol=1e-5)
  with pytest.raises(PrunejaxError, match="interpreter 'tfmicro' must be one of"):
    export.interpreter_class('tfmicro')
