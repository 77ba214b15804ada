"""Resizing of label maps as the originals do it, and the pixels a nearest resizing reads.

The models resize with F.interpolate, as the originals (mode='nearest': its legacy floor indexing;
'nearest-exact' would shift label borders). ``nearest_select`` gives the same values by selecting
the rows and columns F.interpolate reads (any dtype: integer labels too).
"""
import functools

import torch
import torch.nn.functional as F


@functools.lru_cache(maxsize=64)
def _nearest_sources(size_in, size_out):
    """The source indices F.interpolate(mode='nearest') reads for ``size_out`` outputs of ``size_in``."""
    index = torch.arange(size_in, dtype=torch.float32).view(1, 1, size_in, 1)
    return F.interpolate(index, size=(size_out, 1), mode='nearest').view(-1).long()


def nearest_select(x, size):
    """The pixels ``F.interpolate(mode='nearest')`` would give at ``size``, selected from the last two
    dimensions of ``x``; ``x`` itself at its own size."""
    size = tuple(int(s) for s in size)
    if size == tuple(x.shape[-2:]):
        return x
    rows = _nearest_sources(x.shape[-2], size[0]).to(x.device)
    cols = _nearest_sources(x.shape[-1], size[1]).to(x.device)
    return x.index_select(-2, rows).index_select(-1, cols)


def nearest_resize(x, size):
    """``F.interpolate(x, size=size, mode='nearest')`` for x [N, C, H, W]."""
    return F.interpolate(x, size=tuple(int(s) for s in size), mode='nearest')


def bilinear_halve(x):
    """``F.interpolate(x, scale_factor=0.5, mode='bilinear', align_corners=False)`` for x [N, C, H, W]."""
    return F.interpolate(x, scale_factor=0.5, mode='bilinear', align_corners=False)
