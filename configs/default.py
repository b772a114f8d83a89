"""The main job: dense LeNet-300-100 on Fashion-MNIST.

python scripts/train.py --config configs/default.py --workdir runs/default
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  # The method (prunejax/methods/): '' -> 'sparse' when config.pruning prunes, else 'dense'; or any
  # registered name, its knobs in its own block (config.dynhp, config.adapt, ...).
  config.method = ''
  config.model = 'lenet_300_100'
  config.model_kwargs = ml_collections.ConfigDict()
  config.dataset = 'fashion_mnist'
  config.data_dir = ''  # '' -> $PRUNEJAX_DATA_DIR, $TFDS_DATA_DIR or ~/tensorflow_datasets
  config.manual_dir = ''  # '' -> $PRUNEJAX_MANUAL_DIR or /usr/share/datasets/fashion-mnist
  config.download = True  # let TFDS download when the data is nowhere offline
  config.validation_fraction = 0.1
  config.classes = ()  # keep only these labels (all when empty)
  config.remap_labels = False  # with classes: relabel them 0..k-1 and shrink the classifier
  config.augment = False  # random crop + flip (CIFAR recipe)

  config.num_epochs = 20
  config.batch_size = 128
  config.eval_batch_size = 1000
  config.seed = 0
  config.num_devices = 0  # 0 -> all visible devices

  config.optimizer = ml_collections.ConfigDict()
  config.optimizer.name = 'sgd'  # sgd | adam | adamw
  config.optimizer.learning_rate = 0.05
  config.optimizer.momentum = 0.9
  config.optimizer.nesterov = True
  config.optimizer.weight_decay = 1e-4
  config.optimizer.schedule = 'cosine'  # constant | cosine | step
  config.optimizer.warmup_epochs = 0.0
  config.optimizer.decay_epochs = ()  # for schedule='step'
  config.optimizer.decay_factor = 0.1

  # Pruning (method='none' trains dense). Steps are optimizer steps. See prunejax/train/pruning.py.
  config.pruning = ml_collections.ConfigDict()
  config.pruning.method = 'none'  # none | magnitude | random | snip | grasp | synflow
  config.pruning.sparsity = 0.0  # fraction of the prunable weights removed
  config.pruning.scope = 'global'  # global (one threshold) | layerwise
  config.pruning.distribution = 'uniform'  # layerwise only: uniform | erk
  config.pruning.per_layer = ml_collections.ConfigDict()  # layerwise: {path regex: sparsity} overrides
  config.pruning.schedule = 'one_shot'  # one_shot | iterative | polynomial (magnitude only)
  config.pruning.begin_step = 0
  config.pruning.end_step = 0
  config.pruning.update_every = 100
  config.pruning.include = r'kernel$'  # prunable leaves: regex over '/'-joined parameter paths ...
  config.pruning.exclude = r'(^|/)classifier(/|$)'  # ... minus these (the output layer stays dense)
  config.pruning.score_batch_per_class = 10  # PaI: examples per class in the score batch
  config.pruning.synflow_rounds = 100
  # float64 | scaled_float32 (float32 tensors as mantissa x 2^exponent: no overflow, no float64 needed)
  # | auto (float64 on CPU/GPU, scaled_float32 on TPU)
  config.pruning.synflow_precision = 'auto'
  # xla (all rounds in one compiled while loop) | host (one compiled round per host step) | auto (xla, but
  # host on CPU when grouped/depthwise convolutions remain: XLA's CPU runs those ~3x slower in a loop)
  config.pruning.synflow_loop = 'auto'
  config.pruning.grasp_temperature = 200.0
  config.pruning.grasp_prune = 'highest'  # GraSP removes the highest -θ⊙Hg (the paper's convention)
  config.pruning.grasp_over = 'prunable'  # g and Hg over the prunable kernels (reference code) | all
  config.pruning.score_mode = 'train'  # BatchNorm while SNIP/GraSP score: train (batch stats) | eval

  # Edge measurement (scripts/profile.py; summary.json of training runs uses batch_sizes).
  config.edge = ml_collections.ConfigDict()
  config.edge.threads = 2  # CPU threads for latency in scripts/profile.py (0: no limit)
  config.edge.batch_sizes = (1, 64)

  config.log_every_steps = 100
  config.checkpoint_every_steps = 1000
  config.keep_checkpoints = 2  # the newest checkpoints kept in workdir/checkpoints
  config.progress_bar = True  # on a terminal; elsewhere a progress line every progress_every_seconds
  config.progress_every_seconds = 10
  config.plots = True  # DIR/plots/*.png at the end of a run (off: the summary without the figures)
  return config
