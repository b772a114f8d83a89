"""Structure: channel dependency groups traced from the jaxpr, and physical shrinking of models."""

from prunejax.structure.activations import DATA_CRITERIA, data_scores, data_scores_of
from prunejax.structure.criteria import (ALL_CRITERIA, CRITERIA, channel_scores, criterion_scores,
                                         model_scores, select_channels)
from prunejax.structure.graph import OUTPUT_REASON, trace, trace_groups_of
from prunejax.structure.groups import Group, Member, Tap, Trace
from prunejax.structure.layouts import Piece
from prunejax.structure.order import layers_in_forward_order
from prunejax.structure.reinit import rescale_fan_in
from prunejax.structure.shrink import (eval_split, fix_static_attributes, make_plan, shrink, shrink_split,
                                       shrink_tree, shrunk_shapes, trace_groups, zero_channels)

__all__ = ['ALL_CRITERIA', 'CRITERIA', 'DATA_CRITERIA', 'OUTPUT_REASON', 'Group', 'Member', 'Piece', 'Tap', 'Trace',
           'channel_scores', 'criterion_scores', 'data_scores', 'data_scores_of', 'eval_split',
           'fix_static_attributes', 'layers_in_forward_order', 'make_plan', 'model_scores', 'rescale_fan_in',
           'select_channels', 'shrink', 'shrink_split', 'shrink_tree', 'shrunk_shapes', 'trace', 'trace_groups',
           'trace_groups_of', 'zero_channels']
