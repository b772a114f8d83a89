"""prunejax's own TFDS builders; importing this module registers them with TFDS."""

from prunejax.data.builders.digits import Digits
from prunejax.data.builders.fashion_mnist_idx import FashionMnistIdx
from prunejax.data.builders.synthetic_images import SyntheticCifar, SyntheticImages

__all__ = ['Digits', 'FashionMnistIdx', 'SyntheticCifar', 'SyntheticImages']
