"""Spectral normalisation's weight (models/ops/spectral.py, ``SpectralNormWeight``) on the CPU.

The division by sigma is one autograd function: torch's hook builds ``weight_orig / dot(u, W v)``
from four differentiable operations whose backward makes about eight passes over the weight; its
gradient is ``G / sigma - (<G, W> / sigma^2) u v^T``, two passes. At batch 1 that bookkeeping on the
large low-resolution weights costs as much as their convolutions. The power iteration is torch's
own, u and v are updated in place as there. In eval mode without autograd the divided weight is
kept while ``weight_orig``, ``u`` and ``v`` are unchanged (models/ops/kept.py); any other call drops it.
Applies to weights normalised over their first dimension (every convolution here).
"""
import weakref

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from ..models.dispatch import register
from ..models.ops.kept import Kept, reuse_allowed
from ..models.ops.spectral import SpectralNormWeight
from ..paths import fast_paths_enabled

_KEPT = weakref.WeakKeyDictionary()  # SpectralNormWeight -> Kept


class _DivideBySigma(torch.autograd.Function):
    """weight / sigma with sigma = u^T W v (u, v constants), W = weight viewed as [out, -1]."""

    @staticmethod
    def forward(ctx, weight, u, v):
        sigma = torch.dot(u, torch.mv(weight.reshape(weight.shape[0], -1), v))
        ctx.save_for_backward(weight, u, v, sigma)
        return weight / sigma

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        weight, u, v, sigma = ctx.saved_tensors
        grad = grad.contiguous()
        inner = torch.dot(grad.reshape(-1), weight.reshape(-1))
        # (G - <G, W>/sigma u v^T) / sigma, with tensors only (no host sync for the scalars)
        mat = torch.addr(grad.reshape(grad.shape[0], -1), u * (inner / sigma), v, alpha=-1).div_(sigma)
        return mat.view_as(weight), None, None


def normalised_weight(fn, module):
    """What SpectralNorm.compute_weight returns (power iteration in training mode), divided by sigma
    with _DivideBySigma."""
    weight = getattr(module, fn.name + '_orig')
    u, v = getattr(module, fn.name + '_u'), getattr(module, fn.name + '_v')
    if module.training:
        mat = weight.reshape(weight.shape[0], -1)
        with torch.no_grad():
            for _ in range(fn.n_power_iterations):
                v = F.normalize(torch.mv(mat.t(), u), dim=0, eps=fn.eps, out=v)
                u = F.normalize(torch.mv(mat, v), dim=0, eps=fn.eps, out=u)
            if fn.n_power_iterations > 0:  # later in-place updates must not reach this forward's graph
                u, v = u.clone(memory_format=torch.contiguous_format), v.clone(memory_format=torch.contiguous_format)
    return _DivideBySigma.apply(weight, u, v)


def applies(layer, context, module):
    return layer.fn.dim == 0 and fast_paths_enabled(getattr(module, layer.fn.name + '_orig'))


def run(layer, context, module):
    fn = layer.fn
    weight = getattr(module, fn.name + '_orig')
    kept = _KEPT.setdefault(layer, Kept())
    if reuse_allowed(module, weight):
        sources = [weight] + [getattr(module, fn.name + s) for s in ('_u', '_v')]
        return kept.get(sources, lambda: normalised_weight(fn, module))
    kept.clear()
    return normalised_weight(fn, module)


register(SpectralNormWeight, applies, run)
