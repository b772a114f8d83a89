"""prunejax: pruning neural networks for edge devices in JAX (Flax NNX, optax, Orbax, TFDS)."""

from setuptools import find_packages, setup

setup(
    name='prunejax',
    version='0.1.0',
    description='Pruning neural networks for edge devices: DynHP, Reconvene, ADaPT, on-device retraining.',
    packages=find_packages(include=['prunejax', 'prunejax.*']),
    python_requires='>=3.11',
    install_requires=[
        'jax>=0.7', 'flax>=0.12', 'optax>=0.2.5', 'orbax-checkpoint>=0.11', 'chex>=0.1.90',
        'ml-collections>=1.0', 'absl-py>=2.1', 'tensorflow-datasets>=4.9.9', 'tensorflow-cpu>=2.19',
        'importlib-resources>=6', 'pillow>=11', 'matplotlib>=3.9', 'scikit-learn>=1.5', 'numpy>=2.0',
        'tqdm>=4.66', 'tensorboardX>=2.6',
        'ai-edge-litert>=2.3',  # LiteRT's interpreter for exported .tflite files (TF's own is deprecated)
    ],
    entry_points={'console_scripts': [
        f'prunejax-{name}=prunejax.commands.{name}:entry'
        for name in ('train', 'reproduce', 'export', 'profile')]},
    extras_require={'test': ['pytest>=8', 'pytest-xdist>=3.6', 'hypothesis>=6.100']},
)
