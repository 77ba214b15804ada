"""Work buffers kept from call to call for large CPU temporaries that never leave the function
using them (Winograd's tile buffers, the unfolded or padded copies of the depthwise backward).

Why: on the CPU, PyTorch takes its memory from the C library's malloc, which serves large blocks
(glibc: above its mmap threshold, at most 32 MiB) with fresh pages from the kernel and gives them
back when they are freed. Every 4 KiB page of such a temporary then costs a page fault the next
time, about 2.4 us each measured on the 2-core benchmark machine (1.7 GB/s, slower than the
arithmetic done on the buffer): 1.5 million faults, 3.7 s of system time, in one CC-FPSE G step
at 256x256. A kept buffer is faulted in once.

``buffer(name, shape, like)`` returns the first elements of this thread's buffer ``name`` (of
``like``'s dtype) as a tensor of ``shape`` (an int for a flat one), the buffer grown when too
small. Its contents are whatever the last user left: callers initialise what they read. It stays
valid until the next ``buffer`` call with the same name in the same thread, so one name per
temporary that is alive at a time. Off the CPU it is a plain new tensor (CUDA's caching allocator
already reuses memory). ``release()`` frees this thread's buffers (the benchmark calls it so that a
measured step pays for its buffers).
"""
import math
import threading

import torch

_local = threading.local()


def _buffers():
    bufs = getattr(_local, 'buffers', None)
    if bufs is None:
        bufs = _local.buffers = {}
    return bufs


def buffer(name, shape, like):
    """An uninitialised contiguous tensor of ``shape`` (an int: 1-D), ``like``'s dtype and device: on
    the CPU a view of this thread's kept buffer ``name``, else a new tensor."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if like.device.type != 'cpu':
        return like.new_empty(shape)
    numel = math.prod(shape)
    bufs = _buffers()
    key = (name, like.dtype)
    kept = bufs.get(key)
    if kept is None or kept.numel() < numel:
        bufs.pop(key, None)                                   # free the smaller one first
        kept = bufs[key] = torch.empty(numel, dtype=like.dtype)
    return kept[:numel].view(shape)


def release():
    """Free this thread's kept buffers."""
    _buffers().clear()


def kept_bytes():
    """Bytes held by this thread's kept buffers."""
    return sum(t.numel() * t.element_size() for t in _buffers().values())
