"""Reconvene — structured pruning at initialisation from unstructured PaI masks (Eccles, Wong, Varghese 2024).

A **reconstruction**: only the abstract is known (docs/papers/reconvene.md); every unknown is a field of
``config.reconvene``. Our algorithm:

    UPaI   masks ← scorer (random, magnitude, snip, grasp, synflow) at sparsity s, one global threshold
    PSE    for each prunable channel group g (conv filters, Dense hidden units: structure.trace_groups):
               d_g ← kept share of g's producing kernels under the mask
               sensitivity_g ← d_g / (1 − s) ('density', relative to the whole mask's: a layer the
                   mask keeps sparser than the network is insensitive to being made narrow) or 1 − (kept weights in g's top ⌈d_g·C_g⌉ channels / kept weights in g)
                   ('concentration': the mask already put its weights in few channels)
           selected ← groups with sensitivity < threshold (or the ``count`` least sensitive)
    RLR    each selected group keeps max(min_channels, ⌈d_g·C_g⌉) channels, rounded up to ``multiple``,
               ranked by the summed UPaI scores of the weights the mask kept in each channel
           shrink physically (params, BatchNorm statistics, optimizer state, masks)
           the selected groups' producing kernels become dense (the structure replaces their sparsity);
           every other kernel keeps its UPaI mask, sliced where its inputs shrank
           ``reinit``: leaves whose shape changed are redrawn from the model's own initialisers at the
               new shape ('changed'), or keep their UPaI values rescaled to the new fan-in ('rescale'),
               or unchanged ('none')
    train  (``train``) with the masks fixed, the config's recipe

Each step is timed (``produce_seconds`` excludes compiles — every XLA compile in the step, from JAX's
monitoring, and the scorer's tracing — reported apart as ``compile_seconds``); the result is measured
against the original dense network: dense bytes, FLOPs, paired CPU latency.
"""

import functools
import math
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from prunejax import core, edge, structure
from prunejax.errors import PrunejaxError
from prunejax.methods.reconvene_settings import ReconveneSettings
from prunejax.methods.registry import check_no_pruning, register_method
from prunejax.train import distributed
from prunejax.train import Pruning, Run, apply_model, split_model, write_summary

def check(config: ml_collections.ConfigDict) -> None:
  check_no_pruning(config)
  if 'reconvene' not in config:
    raise PrunejaxError('config.method=reconvene needs a config.reconvene block; start from '
                        f'{ReconveneSettings.example}.')
  ReconveneSettings.from_config(config.reconvene)


def upai_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """``config.pruning`` (which leaves, score batch, SynFlow rounds, GraSP options) with the UPaI's scorer
  and sparsity: one global threshold, at initialisation."""
  cfg = ml_collections.ConfigDict(config.pruning.to_dict())
  cfg.method, cfg.sparsity = config.reconvene.upai, config.reconvene.sparsity
  cfg.scope, cfg.schedule, cfg.begin_step = 'global', 'one_shot', 0
  return cfg


@register_method('reconvene', check=check)
def reconvene(run: Run) -> dict:
  cfg = run.config.reconvene
  pruning = Pruning(upai_config(run.config), run.initial_params)
  run.optimizer = pruning.wrap(run.optimizer, fixed=True)  # the masks stay fixed while training
  produced = run.once('produce', lambda: produce(run, pruning, cfg))
  measured = run.once('measure', lambda: measure_against_original(run, cfg.latency_rounds,
                                                                   cfg.latency_repeats))
  if cfg.train:
    run.train('train', epochs=run.config.num_epochs)
  return write_summary(run, 'reconvene', {**produced['summary'], **measured, **pruning.summary(),
                                          'upai': cfg.upai, 'sensitivity': cfg.sensitivity,
                                          'threshold': cfg.threshold, 'trained': bool(cfg.train)},
                       evaluate=bool(cfg.train))  # produce-only: no accuracy (chance; minutes on CPU)


def produce(run: Run, pruning: Pruning, cfg) -> dict:
  """UPaI, then the Pruning Sensitivity Evaluator, then the Resilient Layer Rectifier; timed."""
  distributed.say(f'{run.workdir}: Reconvene: {cfg.upai} scores at sparsity {cfg.sparsity:.4f}'
                  f'{f" ({run.config.pruning.synflow_rounds} rounds)" if cfg.upai == "synflow" else ""}, then '
                  'sensitivity, rectifier and the paired latency measurement')
  with edge.compile_clock() as clock:
    started = time.perf_counter()
    state = run.state
    upai = pruning.scored_masks_at_init(run.defs, state.params, state.model_state, run.splits,
                                        run.config.seed, with_scores=True)
    masks = upai['masks']
    run.state = state.replace(params=_apply_masks(state.params, masks),
                              opt_state=optax.tree_utils.tree_set(state.opt_state, masks=masks))
    upai_nonzero = edge.count_params(run.state.params)[1]

    pse_started, pse_compiles = time.perf_counter(), clock.seconds
    groups = [g for g in run.groups() if g.prunable]
    density, kept_weights, importance = channel_statistics(masks, upai['scores'], state.params, groups)
    sensitivity = sensitivities(cfg.sensitivity, groups, density, kept_weights, importance, cfg.sparsity)
    selected = select_groups(groups, density, sensitivity, cfg.threshold, cfg.count)

    rlr_started, rlr_compiles = time.perf_counter(), clock.seconds
    keep = {g.name: kept_channels(g, density[g.name], importance[g.name], cfg.min_channels, cfg.multiple)
            for g in groups if g.name in selected}
    keep = {name: indices for name, indices in keep.items() if len(indices) < len(importance[name])}
    if keep:
      run.shrink(keep)
      rectify(run, [g for g in groups if g.name in keep], cfg.reinit)
    jax.block_until_ready(run.state.params)
    done = time.perf_counter()

  report = [{'group': g.name, 'channels': g.size, 'density': round(float(density[g.name]), 6),
             'sensitivity': round(float(sensitivity[g.name]), 6),
             'kept': len(keep[g.name]) if g.name in keep else g.size} for g in groups]
  # Compiles are one-off per process and shape: XLA's (the scorer's and every other, eager ops included,
  # from JAX's monitoring) and the scorer's tracing and lowering are reported apart, per step too.
  compile_seconds = clock.seconds + upai['lower_seconds']
  seconds = {'score_compile_seconds': upai['compile_seconds'], 'score_seconds': upai['score_seconds'],
             'pse_seconds': rlr_started - pse_started - (rlr_compiles - pse_compiles),
             'rlr_seconds': done - rlr_started - (clock.seconds - rlr_compiles),
             'compile_seconds': compile_seconds, 'compiles': clock.compiles}
  return {'groups': report, 'summary': {
      **seconds, 'produce_seconds': done - started - compile_seconds,
      'produce_seconds_with_compile': done - started,
      'params_upai_nonzero': upai_nonzero, 'groups_shrunk': len(keep), 'groups_prunable': len(groups),
      'units_final': {name: len(indices) for name, indices in run.keep.items()}}}


def channel_statistics(masks, scores, params, groups):
  """Per group: the mask's density over its producing kernels; per channel: kept weights and the summed
  UPaI scores of the kept weights (leaves the mask does not cover count as fully kept)."""
  kept, kept_scores = _kept(masks, scores, params)
  kept_weights = structure.channel_scores(kept, groups, 'producers', 'sum')
  share = structure.channel_scores(kept, groups, 'producers', 'mean')
  importance = structure.channel_scores(kept_scores, groups, 'producers', 'sum')
  density = {name: float(np.mean(values)) for name, values in share.items()}
  return density, kept_weights, importance


@jax.jit  # one dispatch: eager, each leaf's ops would be traced apart
def _kept(masks, scores, params):
  """Per element: kept (1.0) or not, and the score if kept; leaves the mask does not cover are kept."""
  kept = jax.tree.map(lambda m, p: jnp.ones(p.shape, jnp.float32) if m is None else m.astype(jnp.float32),
                      masks, params, is_leaf=lambda x: x is None)
  return kept, jax.tree.map(lambda k, s: k * s.astype(jnp.float32), kept, scores)


def sensitivities(kind: str, groups, density, kept_weights, importance, sparsity: float
                  ) -> dict[str, float]:
  """Low = insensitive to structured pruning (see the module docstring)."""
  if kind == 'density':
    return {g.name: density[g.name] / max(1.0 - sparsity, 1e-12) for g in groups}
  out = {}
  for g in groups:
    n = math.ceil(density[g.name] * g.size)
    top = np.argsort(-importance[g.name], kind='stable')[:n]
    total = kept_weights[g.name].sum()
    out[g.name] = float(1.0 - kept_weights[g.name][top].sum() / total) if total else 0.0
  return out


def select_groups(groups, density, sensitivity, threshold: float, count: int) -> set[str]:
  """Groups below ``threshold``, or the ``count`` least sensitive; only groups the mask thinned."""
  candidates = [g.name for g in groups if density[g.name] < 1.0]
  if count:
    return set(sorted(candidates, key=lambda name: sensitivity[name])[:count])
  return {name for name in candidates if sensitivity[name] < threshold}


def kept_channels(group, density: float, importance: np.ndarray, min_channels: int, multiple: int):
  """The ⌈density·C⌉ channels with the largest summed kept scores (at least ``min_channels``, rounded
  up to a multiple of ``multiple``), in their original order."""
  n = max(min_channels, math.ceil(density * group.size))
  n = min(group.size, math.ceil(n / multiple) * multiple)
  return np.sort(np.argsort(-importance, kind='stable')[:n])


def rectify(run: Run, shrunk_groups, reinit: str) -> None:
  """The selected groups' producing kernels become dense; the leaves whose shape changed are re-initialised
  as ``reinit`` says; every other mask (and weight) stays as the UPaI left it."""
  state = run.state
  params = state.params
  masks = core.find_masked_state(state.opt_state).masks
  paths = jax.tree.leaves(core.leaf_paths(params))
  dense_now = {m.path for g in shrunk_groups for m in g.members if m.path in paths and m.produces}
  original_shapes = {path: leaf.shape for path, leaf in
                     zip(jax.tree.leaves(core.leaf_paths(run.initial_params)), jax.tree.leaves(run.initial_params))}
  # The unmasked values the reshaped leaves start from: the initial draw (sliced), rescaled to the new
  # fan-in, or a fresh draw of the model's initialisers at the new shape.
  model = run.new_model(seed=run.config.seed + (1 if reinit == 'changed' else 0))
  wide = split_model(model)[1]
  fresh = split_model(structure.shrink(model, run.keep, run.base_groups()))[1]
  if reinit != 'none':
    fresh = structure.rescale_fan_in(wide, fresh)
  changed = lambda path, leaf: tuple(leaf.shape) != tuple(original_shapes[path])
  new_params = jax.tree.map(lambda path, p, f: f if changed(path, p) else p,
                            core.leaf_paths(params), params, fresh)
  new_masks = jax.tree.map(lambda path, m: None if m is None else
                           (jnp.ones_like(m) if path in dense_now else m),
                           core.leaf_paths(params), masks, is_leaf=lambda x: x is None)
  run.state = state.replace(params=_apply_masks(new_params, new_masks),
                            opt_state=optax.tree_utils.tree_set(state.opt_state, masks=new_masks))


_apply_masks = jax.jit(core.apply_masks)  # one dispatch (eager, each leaf would be traced apart)


def measure_against_original(run: Run, rounds: int, repeats: int) -> dict:
  """Dense bytes, FLOPs and paired CPU latency (batch 1 and 64) of the produced network against the
  config's original dense network, measured in alternating rounds."""
  defs, params, model_state = split_model(run.new_model())
  original = (jax.jit(functools.partial(apply_model, defs.eval)), params, model_state)
  current = (jax.jit(functools.partial(apply_model, run.defs.eval)), run.state.params, run.state.model_state)
  shape = run.splits.input_shape
  flops = [edge.forward_flops_per_example(fn, p, s, shape) for fn, p, s in (original, current)]
  nbytes = [sum(int(x.nbytes) for x in jax.tree.leaves(p)) for _, p, _ in (original, current)]
  figures = {'params_dense': edge.count_params(params)[0], 'params_final': edge.count_params(current[1])[0],
             # (at production, before any training: the summary's params_nonzero is the final network's)
             'params_produced_nonzero': edge.count_params(current[1])[1], 'dense_bytes_original': nbytes[0],
             'dense_bytes_final': nbytes[1], 'size_ratio': nbytes[0] / nbytes[1],
             'flops_original': flops[0], 'flops_final': flops[1], 'flops_ratio': flops[0] / flops[1]}
  for batch in tuple(run.config.edge.batch_sizes):
    x = jnp.zeros((batch,) + tuple(shape), jnp.float32)
    timing = edge.paired_latencies((original[0], (original[1], original[2], x)),
                                   (current[0], (current[1], current[2], x)), rounds=rounds,
                                   repeats=repeats)
    figures[f'latency_ms_original_b{batch}'] = 1e3 * timing['baseline']
    figures[f'latency_ms_final_b{batch}'] = 1e3 * timing['candidate']
    figures[f'speedup_b{batch}'] = timing['speedup']
  return figures
