"""Spectral normalisation with the parameter names of torch.nn.utils.spectral_norm (weight_orig,
weight_u, weight_v), so released checkpoints load, and safe under autocast: the power iteration
and the normalisation by sigma always run in float32.

The hook's weight is a ``SpectralNormWeight`` call: torch's own computation (one power iteration
in training mode, then weight_orig / sigma), a layer on which the dispatcher (models/dispatch.py)
may run a registered implementation instead.
"""
import torch
from torch.nn.utils import spectral_norm as torch_spectral_norm
from torch.nn.utils.spectral_norm import SpectralNorm

from ..dispatch import Dispatched


class SpectralNormWeight(Dispatched):
    """forward(module) -> the module's spectral-normed weight, as torch's SpectralNorm hook computes
    it (``fn``: that hook; u and v updated in place in training mode)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, module):
        return self.fn.compute_weight(module, do_power_iteration=module.training)


class _Float32SpectralNorm:
    """Forward pre-hook in place of torch's SpectralNorm hook: its weight with autocast disabled."""

    def __init__(self, fn):
        self.fn = fn
        self.weight = SpectralNormWeight(fn)

    def __call__(self, module, inputs):
        weight = getattr(module, self.fn.name + '_orig')
        with torch.autocast(device_type=weight.device.type, enabled=False):
            setattr(module, self.fn.name, self.weight(module))


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
