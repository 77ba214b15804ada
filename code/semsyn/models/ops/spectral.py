"""Spectral normalisation with the parameter names of torch.nn.utils.spectral_norm (weight_orig,
weight_u, weight_v), so released checkpoints load, and safe under autocast: the power iteration
and the normalisation by sigma always run in float32.

On the fast paths (ops/paths.py) the division by sigma is one autograd function: torch's hook
builds ``weight_orig / dot(u, W v)`` from four differentiable operations whose backward makes
about eight passes over the weight; its gradient is ``G / sigma - (<G, W> / sigma^2) u v^T``, two
passes. At batch 1 that bookkeeping on the large low-resolution weights costs as much as their
convolutions. The power iteration is torch's own, u and v are updated in place as there.
"""
import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable
from torch.nn.utils import spectral_norm as torch_spectral_norm
from torch.nn.utils.spectral_norm import SpectralNorm

from .kept import Kept, reuse_allowed
from .paths import fast_paths_enabled


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


def _normalised_weight(fn, module):
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


class _Float32SpectralNorm:
    """Forward pre-hook around torch's SpectralNorm hook with autocast disabled. On the fast paths, in
    eval mode on the CPU without autograd, the divided weight is kept while ``weight_orig``, ``u`` and
    ``v`` are unchanged (ops/kept.py); any other call drops it."""

    def __init__(self, fn):
        self.fn = fn
        self.kept = Kept()

    def __call__(self, module, inputs):
        weight = getattr(module, self.fn.name + '_orig')
        with torch.autocast(device_type=weight.device.type, enabled=False):
            if fast_paths_enabled(weight) and self.fn.dim == 0:
                if reuse_allowed(module, weight):
                    sources = [weight] + [getattr(module, self.fn.name + s) for s in ('_u', '_v')]
                    value = self.kept.get(sources, lambda: _normalised_weight(self.fn, module))
                else:
                    self.kept.clear()
                    value = _normalised_weight(self.fn, module)
                setattr(module, self.fn.name, value)
                return None
            return self.fn(module, inputs)


def _spectral_hooks(module):
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, SpectralNorm) or isinstance(getattr(hook, 'fn', None), SpectralNorm):
            yield hook


def current_weight(conv):
    """The weight ``conv`` would use if called now: for a spectral-normed conv, its spectral-norm
    hook runs as in a call (one power iteration in training mode, updating ``weight_u``/``weight_v``;
    none in eval), so using this weight outside ``conv.forward`` changes nothing."""
    hooks = list(_spectral_hooks(conv))
    if not hooks and hasattr(conv, 'weight_orig'):
        raise RuntimeError('spectral-normed conv without a recognised spectral-norm hook')
    for hook in hooks:
        hook(conv, None)
    return conv.weight


def spectral_norm(module, name='weight'):
    module = torch_spectral_norm(module, name=name)
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            module._forward_pre_hooks[key] = _Float32SpectralNorm(hook)
    return module
