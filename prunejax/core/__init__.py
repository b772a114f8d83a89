"""Pure functions on parameter pytrees: scores, masks, sparsity distributions, schedules, masked update.

No Flax, no Orbax, no I/O: everything here is jit-able and works on any pytree of arrays.
"""

from prunejax.core.conv_taps import convolutions_left
from prunejax.core.distributions import DISTRIBUTIONS, check_sparsity, layer_densities
from prunejax.core.masked_update import MaskedState, find_masked_state, masked_update
from prunejax.core.masks import (SCOPES, apply_masks, check_mask_matches, kept_count, masks_global,
                                 masks_layerwise, ones_masks, sparsity_summary)
from prunejax.core.paths import DEFAULT_EXCLUDE, DEFAULT_INCLUDE, leaf_paths, path_to_str, select_leaves
from prunejax.core.schedules import SCHEDULES, PruningSchedule
from prunejax.core.scaled_eval import scaled_eval
from prunejax.core.scores import (SCORERS, SYNFLOW_PRECISIONS, Grasp, Magnitude, Random, ScoreContext, Scorer, Snip, SynFlow, get_scorer,
                                  grasp, magnitude, random_scores, register_scorer, scorer_names, snip,
                                  synflow_masks, synflow_network, synflow_scores)
from prunejax.core.topk import top_k_masks

__all__ = [
    'DEFAULT_EXCLUDE', 'DEFAULT_INCLUDE', 'DISTRIBUTIONS', 'SCORERS', 'Grasp', 'Magnitude', 'MaskedState',
    'PruningSchedule', 'Random', 'SCHEDULES', 'SCOPES', 'SYNFLOW_PRECISIONS', 'ScoreContext', 'Scorer', 'Snip', 'SynFlow',
    'apply_masks', 'check_mask_matches', 'check_sparsity', 'convolutions_left', 'find_masked_state',
    'get_scorer', 'grasp',
    'kept_count', 'layer_densities', 'leaf_paths', 'magnitude', 'masked_update', 'masks_global',
    'masks_layerwise', 'ones_masks', 'path_to_str', 'random_scores', 'register_scorer', 'scaled_eval', 'scorer_names',
    'select_leaves', 'snip', 'sparsity_summary', 'synflow_masks', 'synflow_network', 'synflow_scores', 'top_k_masks',
]
