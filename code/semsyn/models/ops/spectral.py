"""Spectral normalisation with the parameter names of torch.nn.utils.spectral_norm (weight_orig,
weight_u, weight_v), so released checkpoints load, and safe under autocast: the power iteration
and the normalisation by sigma always run in float32."""
import torch
from torch.nn.utils import spectral_norm as torch_spectral_norm
from torch.nn.utils.spectral_norm import SpectralNorm


class _Float32SpectralNorm:
    """Forward pre-hook around torch's SpectralNorm hook with autocast disabled."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, module, inputs):
        weight = getattr(module, self.fn.name + '_orig')
        with torch.autocast(device_type=weight.device.type, enabled=False):
            return self.fn(module, inputs)


def spectral_norm(module, name='weight'):
    module = torch_spectral_norm(module, name=name)
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            module._forward_pre_hooks[key] = _Float32SpectralNorm(hook)
    return module
