"""Shared by the benchmarks: forward+backward time and peak memory of one training-like step."""
import os
import resource
import time

import torch


def current_rss():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def allocation_peak(prof):
    """Peak of the running sum of the allocations and frees the PyTorch profiler recorded."""
    events = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events()
                    if e.name() == '[memory]')
    current = peak = 0
    for _, nbytes in events:
        current += nbytes
        peak = max(peak, current)
    return peak


def time_and_peak(step, device, repeat):
    """{'seconds': best of `repeat` timed calls of step(), 'peak_bytes': what one call allocates on top
    of what exists before it (GPU: max_memory_allocated after a warm-up call; CPU: the profiler's
    allocation events), and on the CPU 'rss_rise_bytes' (peak resident memory rise, allocator caching
    included)}."""
    result = {}
    if device == 'cuda':
        step()  # warm-up (cuDNN autotuning, allocator)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step()
        torch.cuda.synchronize()
        result['peak_bytes'] = torch.cuda.max_memory_allocated() - base
    else:
        from torch.profiler import ProfilerActivity, profile
        base = current_rss()
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            step()  # also the warm-up
        result['peak_bytes'] = allocation_peak(prof)
        result['rss_rise_bytes'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    times = []
    for _ in range(repeat):
        if device == 'cuda':
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        step()
        if device == 'cuda':
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    result['seconds'] = min(times)
    return result
