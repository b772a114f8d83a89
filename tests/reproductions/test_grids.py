"""What the reproductions' grids run, checked without training: DynHP's step-bytes variant and Reconvene's
re-run of cells that did not train."""

import json
import pathlib

from prunejax.reproductions import dynhp, reconvene


def test_dynhp_runs_the_step_bytes_cost_on_convolutional_models_only():
  mode = dynhp.MODES['quick']
  for model in dynhp.MODELS:
    entries = {e.name: e for e in dynhp.grid(pathlib.Path('runs/x'), model, 10.0, mode)}
    name = f'dynhp_step_bytes_{model}_10x'
    assert (name in entries) == (model in dynhp.STEP_BYTES_MODELS)
    assert [n.split(f'_{model}')[0] for n in entries] == list(dynhp.variants(model))
  config = dynhp.grid(pathlib.Path('runs/x'), 'lenet5', 10.0, mode)[-1].make_config({})
  assert config.dynhp.cost_unit == 'step_bytes' and not config.dynhp.batch_sizing
  assert config.dynhp.target_compression == 10.0


def write_metrics(workdir: pathlib.Path, first_loss: float) -> None:
  workdir.mkdir(parents=True)
  records = [{'step': 0, 'params': 1}, {'step': 100, 'train_loss': first_loss}, {'step': 200, 'train_loss': 0.5}]
  (workdir / 'metrics.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in records))


def test_cells_that_did_not_train_are_rerun_with_a_warm_up(tmp_path, monkeypatch):
  ran = []

  def fake_grid(root, entries, summaries=None):
    del summaries
    for entry in entries:
      ran.append(entry.name)
      assert entry.make_config({}).optimizer.warmup_epochs == reconvene.WARMUP['warmup_epochs']
      write_metrics(root / entry.name, 1.5)
    return {e.name: {'test_accuracy': 0.8} for e in entries}

  monkeypatch.setattr(reconvene, 'run_grid', fake_grid)
  write_metrics(tmp_path / 'upai_lenet5_grasp_k1', 30.0)
  rows = [{'upai': 'grasp', 'target_sparsity': 0.5, 'upai_accuracy': 0.1, 'reconvene_accuracy': 0.1},
          {'upai': 'snip', 'target_sparsity': 0.5, 'upai_accuracy': 0.88, 'reconvene_accuracy': 0.885}]
  checked = reconvene.collapse_check(tmp_path, rows, 'lenet5', {}, 2)
  assert ran == ['upai_lenet5_grasp_k1_warmup0.5', 'reconvene_lenet5_grasp_k1_warmup0.5']  # not snip
  assert checked == [{'upai': 'grasp', 'target_sparsity': 0.5, 'upai_accuracy': 0.1, 'reconvene_accuracy': 0.1,
                      'first_loss': 30.0, 'upai_warm': 0.8, 'reconvene_warm': 0.8, 'first_loss_warm': 1.5}]
