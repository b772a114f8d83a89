"""prunejax: pruning neural networks for edge devices, in functional JAX with Flax NNX models."""

from prunejax.errors import PrunejaxError

__version__ = '0.1.0'
__all__ = ['PrunejaxError', '__version__']
