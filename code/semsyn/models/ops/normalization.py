"""Normalisation layers with SPADE's parameter names (so released checkpoints load unchanged).

``syncbatch``/``sync_batch`` build ``nn.BatchNorm2d``: it has the same keys as vacancy's
SynchronizedBatchNorm2d used by the originals; statistics are synchronised across processes when
training under torchrun (converted to ``nn.SyncBatchNorm``), not across DataParallel replicas.
"""
import torch.nn as nn

from ...norm_spec import NormSpec, parse_norm
from ..dispatch import Dispatched
from .resize import nearest_resize
from .spectral import spectral_norm


def param_free_norm(kind, channels):
    """Normalisation without learned affine parameters: instance, batch or syncbatch."""
    if kind == 'instance':
        return nn.InstanceNorm2d(channels, affine=False)
    if kind in ('syncbatch', 'sync_batch', 'batch'):
        return nn.BatchNorm2d(channels, affine=False)
    raise ValueError(f"'{kind}' is not a recognised param-free norm type")


def _out_channels(layer):
    if hasattr(layer, 'out_channels'):
        return layer.out_channels
    return layer.weight.size(0)


def as_spec(norm):
    """A NormSpec, or a norm option's text parsed."""
    return norm if isinstance(norm, NormSpec) else parse_norm(norm)


def get_nonspade_norm_layer(norm='instance'):
    """SPADE's helper: wraps a conv as [spectral_norm](conv) followed by a norm layer.

    ``norm``: a NormSpec (or its text): 'spectralinstance' -> Sequential(spectral_norm(conv) without
    bias, InstanceNorm2d(affine=False)).
    """
    spec = as_spec(norm)

    def add_norm_layer(layer):
        subnorm_type = spec.kind
        if spec.spectral:
            layer = spectral_norm(layer)
        if subnorm_type == 'none':
            return layer
        # the norm layer makes the conv bias redundant: remove it (as the originals do)
        if getattr(layer, 'bias', None) is not None:
            delattr(layer, 'bias')
            layer.register_parameter('bias', None)
        channels = _out_channels(layer)
        if subnorm_type in ('batch', 'sync_batch', 'syncbatch'):
            norm_layer = nn.BatchNorm2d(channels, affine=True)
        elif subnorm_type == 'instance':
            norm_layer = nn.InstanceNorm2d(channels, affine=False)
        else:
            raise ValueError(f"normalization layer '{spec.text}' is not recognised")
        return nn.Sequential(layer, norm_layer)

    return add_norm_layer


class SPADE(Dispatched):
    """Spatially-adaptive normalisation: param-free norm, then (1 + gamma(seg)) * x + beta(seg).
    ``norm``: a conditional NormSpec (its param-free norm and kernel size), e.g. spadesyncbatch3x3."""

    def __init__(self, norm, norm_nc, label_nc, nhidden=128):
        super().__init__()
        spec = as_spec(norm)
        if not spec.conditional:
            raise ValueError(f"'{spec.text}' is not a conditional norm such as spadesyncbatch3x3")
        ks = spec.kernel_size
        self.param_free_norm = param_free_norm(spec.param_free, norm_nc)
        pw = ks // 2
        self.mlp_shared = nn.Sequential(nn.Conv2d(label_nc, nhidden, kernel_size=ks, padding=pw), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(nhidden, norm_nc, kernel_size=ks, padding=pw)
        self.mlp_beta = nn.Conv2d(nhidden, norm_nc, kernel_size=ks, padding=pw)

    def forward(self, x, semantics):
        normalized = self.param_free_norm(x)
        actv = self.mlp_shared(nearest_resize(semantics, x.size()[2:]))
        return normalized * (1 + self.mlp_gamma(actv)) + self.mlp_beta(actv)

    def modulate(self, x, actv):
        """The norm with ``actv`` (the output of ``mlp_shared``) computed by the caller (CC-FPSE's
        blocks share that convolution with their kernel predictors); ``kernels.spade.modulate_hidden``
        is its kernel."""
        normalized = self.param_free_norm(x)
        return normalized * (1 + self.mlp_gamma(actv)) + self.mlp_beta(actv)
