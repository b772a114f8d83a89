"""Export to edge runtimes: StableHLO (jax.export) and TFLite/LiteRT (jax2tf + the TFLite converter), each
file loaded back in its runtime and checked against the JAX model."""

from prunejax.export.exporting import FORMATS, convert, export_run, finished_run, parity, serving_fn
from prunejax.export.pairs import dense_and_pruned, original_and_run
from prunejax.export.stablehlo import StableHloRunner, to_stablehlo
from prunejax.export.tflite import TfliteRunner, interpreter_class, to_tflite

__all__ = ['FORMATS', 'StableHloRunner', 'TfliteRunner', 'convert', 'dense_and_pruned', 'export_run', 'finished_run',
           'interpreter_class', 'original_and_run', 'parity', 'serving_fn', 'to_stablehlo', 'to_tflite']
