"""ADaPT on LeNet-5, Fashion-MNIST: pretrained 20 epochs on all classes (configs/lenet5_fashion_mnist.py's
recipe), then data-aware pruning of 50% of the weights for the `tops` subset and retraining, 30 epochs
in all (5 of fine-tuning on the subset first), with the authors' learning-rate recipe.

python scripts/train.py --config configs/adapt_lenet5_fashion_mnist.py --workdir runs/adapt_tops_p50 \
    --config.adapt.pretrained_workdir=runs/lenet5_pretrained
Modes: data_aware | data_agnostic | dapr (search for p); subsets: tops, footwear, random<k>, or 1,3,8.
"""

import pathlib
import runpy

import ml_collections

lenet5 = runpy.run_path(str(pathlib.Path(__file__).with_name('lenet5_fashion_mnist.py')))


def get_config() -> ml_collections.ConfigDict:
  config = lenet5['get_config']()
  config.method = 'adapt'
  config.validation_fraction = 0.2  # the authors' 80/20 per-class split (it picks the best epoch)
  config.optimizer.nesterov = False  # SGD momentum 0.9, weight decay 1e-4, batch 128 (the authors')
  config.adapt = adapt_block()
  return config


def adapt_block() -> ml_collections.ConfigDict:
  return ml_collections.ConfigDict({
      'mode': 'data_aware',  # data_aware | data_agnostic | dapr
      'subset': 'tops',  # tops {0,2,4,6} | footwear {5,7,9} | random<k> (k labels, seed k) | '1,3,8'
      'prune_percent': 50.0,  # share of all Dense/Conv kernel weights removed (dapr: searched)
      'criterion': 'mean_abs',  # mean |W_f| (the authors'); any structured criterion
      'finetune_epochs': 5,  # data-aware: on the subset before pruning
      'total_epochs': 30,
      'lr_before': 1e-3,  # before pruning (constant)
      'lr_after': 1e-2,  # after pruning, x0.1 at each of decay_epochs (epochs counted from 0)
      'decay_epochs': (15, 25),
      'min_channels': 2,  # per layer (dependency group)
      'score_examples': 1024,  # data criteria only: subset images scored
      'pretrained_workdir': '',  # a dense run of this model and dataset; '' -> <workdir>/pretrained
      'agnostic_workdir': '',  # the shared data-agnostic run of this p; '' -> <workdir>/agnostic
      # data_aware/dapr: cut the classifier to the subset's classes (a k-way head, labels 0..k-1) before
      # fine-tuning; False keeps every class as the authors do (predictions over all of them).
      'remap': False,
  })
