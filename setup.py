"""prunejax: pruning neural networks for edge devices in JAX (Flax NNX, optax, Orbax, TFDS)."""

from setuptools import find_packages, setup

# TensorFlow where a tensorflow-cpu wheel exists (Linux x86_64, Windows), the full wheel elsewhere (macOS).
TENSORFLOW = ['tensorflow-cpu>=2.19; platform_system != "Darwin"', 'tensorflow>=2.19; platform_system == "Darwin"']
TFDS = ['tensorflow-datasets>=4.9.9', 'importlib-resources>=6', 'pillow>=11'] + TENSORFLOW
EXPORT = ['ai-edge-litert>=2.3'] + TENSORFLOW  # jax2tf + TF's converter; LiteRT's interpreter runs the files

setup(
    name='prunejax',
    version='0.1.0',
    description='Pruning neural networks for edge devices: DynHP, Reconvene, ADaPT, on-device retraining.',
    packages=find_packages(include=['prunejax', 'prunejax.*']),
    python_requires='>=3.11',
    # The light core: masks, structure, models, the runner, the four methods, StableHLO export and the
    # reproductions, on prunejax's own datasets (Fashion-MNIST's IDX files, digits, synthetic) read by numpy.
    install_requires=[
        'jax>=0.7', 'flax>=0.12', 'optax>=0.2.5', 'orbax-checkpoint>=0.11', 'chex>=0.1.90',
        'ml-collections>=1.0', 'absl-py>=2.1', 'numpy>=2.0', 'matplotlib>=3.9', 'scikit-learn>=1.5',
        'tqdm>=4.66', 'tensorboardX>=2.6',
    ],
    entry_points={'console_scripts': [
        f'prunejax-{name}=prunejax.commands.{name}:entry'
        for name in ('train', 'reproduce', 'export', 'profile')]},
    extras_require={
        'tfds': TFDS, 'export': EXPORT, 'all': sorted(set(TFDS + EXPORT)),
        'test': ['pytest>=8', 'pytest-xdist>=3.6', 'hypothesis>=6.100'],
    },
)
