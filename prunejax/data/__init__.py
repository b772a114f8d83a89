"""Datasets through TFDS (own builders for offline data) and the in-memory input pipeline."""

from prunejax.data.pipeline import Split, Splits, epoch_order, eval_batches, gather_batch, make_splits
from prunejax.data.pipeline import random_crop_and_flip, standardise
from prunejax.data.views import SHIFTS, View, class_subset, full_view, original_and_new, with_budget, with_rehearsal
from prunejax.data.sources import SUPPORTED_DATASETS, DatasetArrays, check_dataset_name, load_dataset

__all__ = ['DatasetArrays', 'SHIFTS', 'SUPPORTED_DATASETS', 'View', 'class_subset', 'full_view',
           'original_and_new', 'with_budget', 'with_rehearsal', 'Split', 'Splits', 'check_dataset_name', 'epoch_order',
           'eval_batches', 'gather_batch', 'load_dataset', 'make_splits', 'random_crop_and_flip', 'standardise']
