"""The run's own settings: the top-level scalar fields of a config (its blocks — ``optimizer``,
``pruning``, ``edge``, a method's — are settings of their own)."""

import dataclasses
from typing import ClassVar

from prunejax.settings import Settings, setting


@dataclasses.dataclass(frozen=True)
class RunSettings(Settings):
  """What to train, on what data, how long, and how the run is logged and checkpointed."""
  block: ClassVar[str] = 'config'

  method: str = setting('', "'' -> sparse when config.pruning prunes, else dense; or a registered method")
  model: str = setting('lenet_300_100', 'a registered model name')
  model_kwargs: dict = setting({}, "the model's constructor arguments, e.g. {'hidden': (300, 100)} for mlp, "
                                    "{'width': 0.5} for vgg16 (an unknown one is refused, listing the model's)")
  dataset: str = setting('fashion_mnist', 'a registered dataset name')
  data_dir: str = setting('', "'' -> $PRUNEJAX_DATA_DIR, $TFDS_DATA_DIR or ~/tensorflow_datasets")
  manual_dir: str = setting('', "'' -> $PRUNEJAX_MANUAL_DIR or /usr/share/datasets/fashion-mnist")
  download: bool = setting(True, 'let TFDS download when the data is nowhere offline')
  validation_fraction: float = setting(0.1, 'share of the training split held out for validation',
                                       low=0, high=1, high_open=True)
  classes: tuple[int, ...] = setting((), 'keep only these labels (all when empty)', low=0)
  remap_labels: bool = setting(False, 'with classes: relabel them 0..k-1 and shrink the classifier')
  augment: bool = setting(False, 'random crop + flip (CIFAR recipe)')
  input_pipeline: str = setting('device', 'device: the splits held on the device, each step gathers its batch '
                                'there; streaming: each batch gathered on the host (each process its shard) '
                                'and sent, for data larger than device memory (same batches, same results)',
                                choices=('device', 'streaming'))
  num_epochs: int = setting(20, 'training epochs', low=1)
  batch_size: int = setting(128, 'examples per step (a multiple of the device count)', low=1)
  eval_batch_size: int = setting(1000, 'examples per evaluation step', low=1)
  seed: int = setting(0, 'initialisation, data order and every random choice')
  num_devices: int = setting(0, '0 -> all visible devices', low=0)
  log_every_steps: int = setting(100, 'steps between metrics records', low=1)
  checkpoint_every_steps: int = setting(1000, 'steps between checkpoints (also at every phase end)', low=1)
  keep_checkpoints: int = setting(2, 'newest checkpoints kept: at least 1, or nothing could resume', low=1)
  progress_bar: bool = setting(True, 'a bar on a terminal; elsewhere a line every progress_every_seconds')
  progress_every_seconds: float = setting(10, 'seconds between progress lines when not on a terminal (0: '
                                          'every step)', low=0)
  plots: bool = setting(True, 'DIR/plots/*.png at the end of a run')
