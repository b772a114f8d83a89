"""TFLite / LiteRT flatbuffers: the JAX function through jax2tf (graph serialisation, so the TFLite
converter sees TF ops it can fuse: BatchNorm folded into the convolution, ReLU into its producer) and
TensorFlow's converter; optional post-training dynamic-range int8 quantisation. Run by LiteRT's
interpreter (``ai_edge_litert``) with its default XNNPACK delegate."""

from collections.abc import Callable

import jax
import numpy as np

from prunejax import extras
from prunejax.errors import PrunejaxError


def to_tflite(fn: Callable[[jax.Array], jax.Array], input_shape: tuple[int, ...], batch: int | None,
              quantize: bool = False) -> bytes:
  """Converts ``fn(x) -> logits``; ``batch=None``: a dynamic batch dimension (resized at run time)."""
  tf = extras.require('tensorflow', 'export', 'TFLite export')
  from jax.experimental import jax2tf  # pylint: disable=g-import-not-at-top
  dims = ', '.join(str(d) for d in input_shape)
  converted = jax2tf.convert(fn, native_serialization=False, with_gradient=False,
                             polymorphic_shapes=[f'(b, {dims})' if batch is None else None])
  signature = [tf.TensorSpec((batch,) + tuple(input_shape), tf.float32)]
  function = tf.function(converted, autograph=False, input_signature=signature)
  converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()], function)
  if quantize:
    converter.optimizations = [tf.lite.Optimize.DEFAULT]  # int8 weights, float activations
  return converter.convert()


INTERPRETERS = ('litert', 'tensorflow')


def interpreter_class(interpreter: str = 'litert'):
  """LiteRT's interpreter (``ai_edge_litert``, the maintained runtime), or TensorFlow's deprecated
  ``tf.lite.Interpreter`` (kept for head-to-head timing: the same flatbuffer, the same XNNPACK)."""
  if interpreter == 'tensorflow':
    return extras.require('tensorflow', 'export', 'TensorFlow\'s TFLite interpreter').lite.Interpreter
  if interpreter != 'litert':
    raise PrunejaxError(f'interpreter {interpreter!r} must be one of {INTERPRETERS}.')
  return extras.require('ai_edge_litert.interpreter', 'export', 'LiteRT\'s interpreter').Interpreter


class TfliteRunner:
  """Runs a flatbuffer in the interpreter with ``threads`` CPU threads, resizing to each batch."""

  def __init__(self, blob: bytes, threads: int = 2, interpreter: str = 'litert'):
    self._interpreter = interpreter_class(interpreter)(model_content=blob, num_threads=threads)
    self._input = self._interpreter.get_input_details()[0]['index']
    self._output = self._interpreter.get_output_details()[0]['index']
    self._shape = None

  def __call__(self, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    if self._shape != x.shape:
      self._interpreter.resize_tensor_input(self._input, x.shape)
      self._interpreter.allocate_tensors()
      self._shape = x.shape
    self._interpreter.set_tensor(self._input, x)
    self._interpreter.invoke()
    return self._interpreter.get_tensor(self._output).copy()
