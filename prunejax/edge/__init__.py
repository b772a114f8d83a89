"""Edge measurement: parameter counts, FLOPs and compiled memory from XLA, latency under a thread limit,
compile time apart from run time, latency by layer kind."""

from prunejax.edge.budget import largest_batch_within
from prunejax.edge.compile_clock import CompileClock, compile_clock
from prunejax.edge.latency import limit_cpu_threads, median_latency, paired_latencies
from prunejax.edge.layer_latency import latency_by_kind, layer_ops
from prunejax.edge.profile import (compiled_bytes, count_params, flops, forward_flops_per_example,
                                   profile_model)

__all__ = ['CompileClock', 'compile_clock', 'compiled_bytes', 'count_params', 'flops', 'forward_flops_per_example',
           'largest_batch_within',
           'latency_by_kind', 'layer_ops', 'limit_cpu_threads', 'median_latency', 'paired_latencies', 'profile_model']
