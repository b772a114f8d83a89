"""A test method that changes everything a method can change mid-phase: it shrinks LeNet-300-100's hidden
layers twice at event points, doubles the batch, goes back to the first batch, shrinks once more between
phases, and switches views. Registered on import as 'toy_shrinker'."""

from prunejax import data, structure
from prunejax.methods import register_method
from prunejax.train import Run, write_summary


def hidden_units(run: Run) -> int:
  return int(run.state.params['hidden'][0]['kernel'].shape[1])


def remove_quarter(run: Run) -> None:
  groups = run.groups()
  scores = structure.model_scores(run.model(), groups, 'l1')
  run.shrink(structure.select_channels(scores, groups, 0.25))


def event(run: Run) -> None:
  step = run.phase_steps()
  if step in (10, 20):
    remove_quarter(run)
  elif step == 30:
    run.set_batch_size(64)
  elif step == 40:
    run.set_batch_size(32)


@register_method('toy_shrinker')
def toy(run: Run) -> dict:
  grown = run.train('grow', steps=50, every=10, on_event=event)
  units = run.once('last_shrink', lambda: (remove_quarter(run), hidden_units(run))[1])
  subset = data.class_subset(run.splits, [0, 1, 2])
  finish = run.train('finish', steps=12, view=subset)
  return write_summary(run, 'toy_shrinker', {'units': units, 'grow_steps': grown['steps'],
                                              'finish_steps': finish['steps']})
