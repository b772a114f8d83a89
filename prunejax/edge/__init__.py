"""Edge measurement: parameter counts, FLOPs and compiled memory from XLA."""

from prunejax.edge.profile import compiled_bytes, count_params, flops, forward_flops_per_example

__all__ = ['compiled_bytes', 'count_params', 'flops', 'forward_flops_per_example']
