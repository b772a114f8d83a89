"""Edge measurement: parameter counts, FLOPs and compiled memory from XLA, latency under a thread limit."""

from prunejax.edge.budget import largest_batch_within
from prunejax.edge.latency import limit_cpu_threads, median_latency, paired_latencies
from prunejax.edge.profile import (compiled_bytes, count_params, flops, forward_flops_per_example,
                                   profile_model)

__all__ = ['compiled_bytes', 'count_params', 'flops', 'forward_flops_per_example', 'largest_batch_within',
           'limit_cpu_threads', 'median_latency', 'paired_latencies', 'profile_model']
