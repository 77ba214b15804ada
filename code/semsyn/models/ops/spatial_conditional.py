"""SCGAN's spatial conditional convolution and normalisation (Wang et al., ICCV 2021), with the
parameter names of dvlab-research/SCGAN so its checkpoints load unchanged.

Both layers mix K experts per pixel with routing weights ``[N, K, H, W]`` (already activated:
softmax over the experts or sigmoid, see ``routing_activation``):

- ``SpatialCondConv2d``: K bias-free 3x3 convolutions (``conv_bases.{k}``, spectral-normed),
  ``out = sum_k w_k * conv_k(x)``.
- ``SpatialCondNorm``: parameter-free BatchNorm (or InstanceNorm), then ``x * (1 + gamma) + beta``
  with ``[gamma, beta]`` per pixel ``= sum_k w_k * affine_params_groups[k]`` (K x 2C; gamma first).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..dispatch import Dispatched
from .normalization import param_free_norm
from .spectral import spectral_norm


def channel_pool(features, bins):
    """Average the channel axis of ``[N, C, H, W]`` into ``bins`` groups -> ``[N, bins, H, W]``.

    ``adaptive_avg_pool3d`` over the channel axis, as SCGAN: bin i averages channels
    ``floor(i*C/bins) .. ceil((i+1)*C/bins) - 1``, so neighbouring bins share a channel when
    ``bins`` does not divide C."""
    n, c, h, w = features.shape
    return F.adaptive_avg_pool3d(features.unsqueeze(1), (bins, h, w)).squeeze(1)


def routing_activation(raw, weight_type='softmax', temperature=1.0):
    """Routing weights from raw pooled ones: ``act(raw * temperature)``, softmax over the experts
    (dim 1) or an element-wise sigmoid."""
    scaled = raw * temperature
    if weight_type == 'softmax':
        return F.softmax(scaled, dim=1)
    if weight_type == 'sigmoid':
        return torch.sigmoid(scaled)
    raise ValueError(f"weight_type must be 'softmax' or 'sigmoid', got {weight_type!r}")


class SpatialCondConv2d(Dispatched):
    """forward(x, weights[N, K, H, W]) -> sum_k weights[:, k] * conv_k(x)."""

    def __init__(self, in_channels, out_channels, num_experts, kernel_size=3, spectral=True):
        super().__init__()
        self.num_experts = num_experts
        self.padding = kernel_size // 2
        bases = []
        for _ in range(num_experts):
            conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=self.padding, bias=False)
            bases.append(spectral_norm(conv) if spectral else conv)
        self.conv_bases = nn.ModuleList(bases)

    def forward(self, x, weights):
        stacked = torch.stack([conv(x) for conv in self.conv_bases], dim=1)  # N, K, C, H, W
        return (stacked * weights.to(stacked.dtype).unsqueeze(2)).sum(dim=1)


class SpatialCondNorm(Dispatched):
    """forward(x, weights[N, K, H, W]) -> param_free_norm(x) * (1 + gamma) + beta, where
    [gamma; beta] = sum_k weights[:, k] * affine_params_groups[k] (gamma: the first C entries).

    ``affine_params_groups`` starts at zero (every expert the identity affine map)."""

    def __init__(self, norm_kind, channels, num_experts):
        super().__init__()
        self.channels = channels
        self.num_experts = num_experts
        self.affine_params_groups = nn.Parameter(torch.zeros(num_experts, 2 * channels))
        self.param_free_norm = param_free_norm(norm_kind, channels)

    def forward(self, x, weights):
        if weights.shape[1] != self.num_experts:
            raise ValueError(f'expected routing weights for {self.num_experts} experts, got {tuple(weights.shape)}')
        normalized = self.param_free_norm(x)
        n, _, h, w = normalized.shape
        rows = weights.to(normalized.dtype).permute(0, 2, 3, 1).contiguous().view(-1, self.num_experts)
        params = torch.matmul(rows, self.affine_params_groups.to(normalized.dtype))
        params = params.view(n, h, w, -1).permute(0, 3, 1, 2).contiguous()
        gamma, beta = torch.split(params, self.channels, dim=1)
        return normalized * (1 + gamma) + beta
