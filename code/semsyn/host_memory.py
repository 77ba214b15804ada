"""Host (CPU) memory: keep freed blocks for reuse instead of handing them back to the kernel.

torch's CPU tensors come from glibc's malloc. By default it serves a large block (above a threshold
that grows to at most 32 MiB) with a fresh mmap and unmaps it on free, and it returns the top of
the heap to the kernel when more than twice that is free. A training step allocates and frees the
same large activations every iteration, so every step touches fresh pages: each page costs a
fault (about 1-2.5 us here), and a step of SCGAN at 256x256 took 50-170 thousand of them. With
``keep_freed_memory()`` blocks up to 2 GiB come from the heap and freed memory stays mapped, so a
step reuses the previous step's pages: about 8 thousand faults, and the same convolution took
25 ms every time instead of 25-45 ms. The process keeps its peak footprint instead of shrinking
between steps.

train.py and test.py call it at start; ``SEMSYN_KEEP_FREED_MEMORY=0`` in the environment leaves
glibc's defaults. A no-op where the C library is not glibc.
"""
import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD = -1  # mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
LARGEST = 2**31 - 1  # mallopt takes an int


def keep_freed_memory():
    """Set glibc's mmap and trim thresholds to 2 GiB (see the module docstring); True when applied."""
    if os.environ.get('SEMSYN_KEEP_FREED_MEMORY', '1') == '0' or not sys.platform.startswith('linux'):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, LARGEST)) and bool(mallopt(M_TRIM_THRESHOLD, LARGEST))
