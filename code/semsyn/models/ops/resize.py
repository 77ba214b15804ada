"""Resizings of label maps as selections and sums, with F.interpolate's values.

On the CPU, F.interpolate first copies a [N, C, H, W] input into another memory layout, so
nearest-downsampling a 151-class map of 8 x 128 x 128 to the 4 x 4 latent size copied 79 MB
(35 ms) to read 2 KB of it, and its bilinear halving took 70 ms. Here:

- ``nearest_resize``: the rows, then the columns, F.interpolate(mode='nearest') reads (its legacy
  floor indexing, as the originals: 'nearest-exact' would shift label borders; the indices come
  from F.interpolate itself on an index vector): the same values, selected. At the same size, the
  map itself, not a copy that autograd would keep once more.
- ``bilinear_halve``: F.interpolate(scale_factor=0.5, mode='bilinear', align_corners=False) samples
  at 2i + 0.5, so every output is the mean of a 2x2 block: row pairs are added as contiguous
  half-rows, then column pairs (float rounding of the sum's order apart).

Both fall back to F.interpolate on the reference path (ops/paths.py).
"""
import functools

import torch
import torch.nn.functional as F

from .paths import fast_paths_enabled


@functools.lru_cache(maxsize=64)
def _nearest_sources(size_in, size_out):
    """The source indices F.interpolate(mode='nearest') reads for ``size_out`` outputs of ``size_in``."""
    index = torch.arange(size_in, dtype=torch.float32).view(1, 1, size_in, 1)
    return F.interpolate(index, size=(size_out, 1), mode='nearest').view(-1).long()


def nearest_select(x, size):
    """The pixels ``F.interpolate(mode='nearest')`` would give at ``size``, selected from the last two
    dimensions of ``x`` (any dtype: integer labels too); ``x`` itself at its own size."""
    size = tuple(int(s) for s in size)
    if size == tuple(x.shape[-2:]):
        return x
    rows = _nearest_sources(x.shape[-2], size[0]).to(x.device)
    cols = _nearest_sources(x.shape[-1], size[1]).to(x.device)
    return x.index_select(-2, rows).index_select(-1, cols)


def nearest_resize(x, size):
    """``F.interpolate(x, size=size, mode='nearest')`` for x [N, C, H, W]; on the reference path
    F.interpolate itself."""
    if not fast_paths_enabled(x):
        return F.interpolate(x, size=tuple(int(s) for s in size), mode='nearest')
    return nearest_select(x, size)


def bilinear_halve(x):
    """``F.interpolate(x, scale_factor=0.5, mode='bilinear', align_corners=False)`` for x [N, C, H, W]."""
    n, c, h, w = x.shape
    if not fast_paths_enabled(x) or h % 2 or w % 2 or not x.is_contiguous():
        return F.interpolate(x, scale_factor=0.5, mode='bilinear', align_corners=False)
    pairs = x.view(n, c, h // 2, 2 * w)                             # rows 2i and 2i + 1 side by side
    rows = pairs[..., :w] + pairs[..., w:]
    return (rows[..., 0::2] + rows[..., 1::2]).mul_(0.25)
