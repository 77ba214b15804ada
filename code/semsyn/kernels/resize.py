"""Resizings of label maps as selections and sums, with F.interpolate's values, and the layer that
resizes the generator input to the latent size (``LatentConv2d``, models/ops/latent.py).

On the CPU, F.interpolate first copies a [N, C, H, W] input into another memory layout, so
nearest-downsampling a 151-class map to the 4 x 4 latent size copies the whole map to read a few
pixels of it. Here:

- ``nearest_resize``: the rows, then the columns, F.interpolate(mode='nearest') reads
  (``nearest_select``, models/ops/resize.py): the same values, selected. At the same size, the map
  itself, not a copy that autograd would keep once more.
- ``bilinear_halve``: F.interpolate(scale_factor=0.5, mode='bilinear', align_corners=False) samples
  at 2i + 0.5, so every output is the mean of a 2x2 block: row pairs are added as contiguous
  half-rows, then column pairs (float rounding of the sum's order apart).

Both run F.interpolate where the fast paths are off for the tensor's device (semsyn/paths.py).
"""
import torch.nn.functional as F

from ..models.dispatch import register
from ..models.ops.latent import LatentConv2d
from ..models.ops.resize import nearest_select
from ..paths import fast_paths_enabled


def nearest_resize(x, size):
    """``F.interpolate(x, size=size, mode='nearest')`` for x [N, C, H, W], by selection on a fast-path device."""
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


def latent_applies(layer, context, semantics, z=None):
    return fast_paths_enabled(semantics)


def run_latent(layer, context, semantics, z=None):
    return layer._conv_forward(nearest_select(semantics, layer.size), layer.weight, layer.bias)


register(LatentConv2d, latent_applies, run_latent)
