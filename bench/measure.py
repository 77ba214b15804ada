"""Shared by the benchmarks: time and peak memory of one step (a function of no arguments)."""
import time

import torch


def set_host_memory(path, allocator='semsyn'):
    """A benchmark process's host memory, before its allocations: 'semsyn' keeps freed memory on the fast
    path as train.py does (semsyn/host_memory.py) and leaves glibc's defaults on the reference path,
    as the originals run; 'both' keeps it on both paths, 'default' on neither."""
    from semsyn.host_memory import keep_freed_memory
    if allocator == 'both' or (allocator == 'semsyn' and path == 'fast'):
        keep_freed_memory()


def _sync(device):
    if device == 'cuda':
        torch.cuda.synchronize()


def timed(step, device, repeat, budget=10.0):
    """{'seconds': fastest wall time of the timed calls after one warm-up, 'cpu_seconds': the process
    CPU time of that call (all threads)}: ``repeat`` calls, or with ``repeat`` 0 as many as fit in
    ``budget`` seconds (at least 1, at most 5): a second-long step gets several tries at an
    undisturbed run, a minute-long one is not repeated."""
    step()  # warm-up: allocator, oneDNN/cuDNN kernel choice
    best, spent, calls = None, 0.0, 0
    while calls < (repeat or 5) and (repeat or spent < budget):
        _sync(device)
        wall, cpu = time.perf_counter(), time.process_time()
        step()
        _sync(device)
        sample = (time.perf_counter() - wall, time.process_time() - cpu)
        best = sample if best is None or sample[0] < best[0] else best
        spent, calls = spent + sample[0], calls + 1
    return {'seconds': best[0], 'cpu_seconds': best[1]}


def allocation_peak(prof):
    """Peak of the running sum of the allocations and frees the PyTorch profiler recorded."""
    events = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events()
                    if e.name() == '[memory]')
    current = peak = 0
    for _, nbytes in events:
        current += nbytes
        peak = max(peak, current)
    return peak


def peak_bytes(step, device):
    """What one call allocates at its peak on top of what exists before it (GPU: max_memory_allocated;
    CPU: the allocation events of the PyTorch profiler)."""
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    return allocation_peak(prof)
