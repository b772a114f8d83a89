"""``dense``: train the config's network, nothing removed — the baseline every method is measured against."""

from prunejax.methods.registry import check_no_pruning, register_method
from prunejax.train import Run, write_summary


@register_method('dense', check=check_no_pruning)
def dense(run: Run) -> dict:
  run.train('train', epochs=run.config.num_epochs)
  return write_summary(run, 'dense')
