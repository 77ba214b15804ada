"""SCGAN's spatial conditional convolution and normalisation (Wang et al., ICCV 2021), with the
parameter names of dvlab-research/SCGAN so its checkpoints load unchanged.

Both layers mix K experts per pixel with routing weights ``[N, K, H, W]`` (already activated:
softmax over the experts or sigmoid, see ``routing_activation``):

- ``SpatialCondConv2d``: K bias-free 3x3 convolutions (``conv_bases.{k}``, spectral-normed),
  ``out = sum_k w_k * conv_k(x)``. The original runs the K convolutions one after the other and
  stacks their outputs; here they run as one convolution whose weight is the K expert weights
  concatenated along the output channels (each expert still spectral-normed from its own stored
  ``weight_u``/``weight_v``, power iteration included in training mode), and the stacked copy is
  never made; without a gradient on the CPU it runs as Winograd where that pays (ops/winograd.py).
  The reference path (ops/paths.py) or ``fused = False`` runs the original's.
- ``SpatialCondNorm``: parameter-free BatchNorm (or InstanceNorm), then ``x * (1 + gamma) + beta``
  with ``[gamma, beta]`` per pixel ``= sum_k w_k * affine_params_groups[k]`` (K x 2C; gamma first).
  The fast path computes [1 + gamma, beta] as one 1x1 convolution of the routing weights (the 1
  as its bias) and the norm as one addcmul; on the CPU chunk by chunk of pixels through a
  cache-sized buffer instead (``modulate_chunks``): without a gradient over the normalised map
  itself, under autograd on large maps in ``_Modulate``. The reference path computes it as the
  original (matmul, permute).
"""
import functools

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from ...kernels.conv3x3 import conv2d_same
from .kept import Kept, reuse_allowed
from .normalization import param_free_norm
from .paths import fast_paths_enabled
from .spectral import current_weight, spectral_norm


def channel_pool(features, bins):
    """Average the channel axis of ``[N, C, H, W]`` into ``bins`` groups -> ``[N, bins, H, W]``.

    ``adaptive_avg_pool3d`` over the channel axis, as SCGAN: bin i averages channels
    ``floor(i*C/bins) .. ceil((i+1)*C/bins) - 1``, so neighbouring bins share a channel when
    ``bins`` does not divide C. The fast path multiplies by the [bins, C] averaging matrix instead
    (to float rounding the same; pooling and its gradient took 15 ms per 32-channel 256x256 map, the
    product 1.6)."""
    n, c, h, w = features.shape
    if not fast_paths_enabled(features):
        return F.adaptive_avg_pool3d(features.unsqueeze(1), (bins, h, w)).squeeze(1)
    weights = averaging_matrix(c, bins).to(features.device, features.dtype)
    return torch.matmul(weights, features.reshape(n, c, h * w)).view(n, bins, h, w)


@functools.lru_cache(maxsize=64)
def averaging_matrix(channels, bins):
    """[bins, channels], row i: 1 / (its channel count) on the channels adaptive pooling gives bin i."""
    matrix = torch.zeros(bins, channels, dtype=torch.float64)  # rounded once, to the features' dtype
    for i in range(bins):
        start, end = (i * channels) // bins, -(-(i + 1) * channels // bins)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def routing_activation(raw, weight_type='softmax', temperature=1.0):
    """Routing weights from raw pooled ones: ``act(raw * temperature)``, softmax over the experts
    (dim 1) or an element-wise sigmoid."""
    scaled = raw * temperature
    if weight_type == 'softmax':
        return F.softmax(scaled, dim=1)
    if weight_type == 'sigmoid':
        return torch.sigmoid(scaled)
    raise ValueError(f"weight_type must be 'softmax' or 'sigmoid', got {weight_type!r}")


class _MixExperts(torch.autograd.Function):
    """out = sum_k w[:, k] * y[:, k*C:(k+1)*C]; backward writes the gradient of y into one buffer
    (autograd of K channel slices would materialise a zero-filled gradient of y per slice)."""

    @staticmethod
    def forward(ctx, stacked, weights, num_experts):
        c = stacked.shape[1] // num_experts
        out = stacked.narrow(1, 0, c) * weights[:, 0:1]
        for k in range(1, num_experts):
            out.addcmul_(stacked.narrow(1, k * c, c), weights[:, k:k + 1])
        ctx.save_for_backward(stacked, weights)
        ctx.num_experts = num_experts
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        stacked, weights = ctx.saved_tensors
        k_all = ctx.num_experts
        c = stacked.shape[1] // k_all
        grad_stacked = grad_weights = None
        if ctx.needs_input_grad[0]:
            grad_stacked = torch.empty_like(stacked)
            for k in range(k_all):
                torch.mul(grad_out, weights[:, k:k + 1], out=grad_stacked.narrow(1, k * c, c))
        if ctx.needs_input_grad[1]:
            grad_weights = torch.empty_like(weights)
            for k in range(k_all):
                grad_weights[:, k:k + 1] = (grad_out * stacked.narrow(1, k * c, c)).sum(1, keepdim=True)
        return grad_stacked, grad_weights, None


def mix_experts(stacked, weights, num_experts):
    """``sum_k weights[:, k] * stacked[:, k*C:(k+1)*C]`` for ``stacked`` [N, K*C, H, W]."""
    if weights.shape[1] != num_experts or stacked.shape[1] % num_experts:
        raise ValueError(f'expected routing weights for {num_experts} experts and K*C channels, got '
                         f'{tuple(weights.shape)} and {tuple(stacked.shape)}')
    return _MixExperts.apply(stacked, weights.to(stacked.dtype), num_experts)


# Under autograd, on maps of at most this many pixels (batch x height x width) the experts convolve
# one by one: there the joined weight (K * C_out x C_in x 3 x 3, 28 MB at 512 channels), concatenated
# anew and differentiated every step, costs more than it saves (SCGAN's G step at 256x256: its 16x16
# experts 269 -> 239 ms). Without a gradient the joined weight stays (kept in eval mode on the CPU):
# one by one was not faster there (SCGAN inference at 256x256 within the machine's noise).
JOIN_MIN_PIXELS = 512


class SpatialCondConv2d(nn.Module):
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
        self.fused = True
        self.joined = Kept()

    def joined_weight(self):
        """The K expert weights concatenated along the output channels (kept in eval mode on the CPU
        while the experts' weights are unchanged, ops/kept.py)."""
        experts = [current_weight(conv) for conv in self.conv_bases]
        if not reuse_allowed(self, experts[0]):
            self.joined.clear()
            return torch.cat(experts, dim=0)
        return self.joined.get(experts, lambda: torch.cat(experts, dim=0))

    def forward(self, x, weights):
        if not self.fused or not fast_paths_enabled(x):
            return self.forward_separate(x, weights)
        if torch.is_grad_enabled() and x.shape[0] * x.shape[2] * x.shape[3] <= JOIN_MIN_PIXELS:
            return self.forward_unjoined(x, weights)
        # no-grad on the CPU: the joined experts as one Winograd convolution where that pays (ops/winograd.py)
        return mix_experts(conv2d_same(x, self.joined_weight()), weights, self.num_experts)

    def forward_unjoined(self, x, weights):
        """Small maps under autograd: the K convolutions one by one, their outputs summed in place (no
        stacked copy)."""
        weights = weights.to(x.dtype)
        out = None
        for k, conv in enumerate(self.conv_bases):
            part = F.conv2d(x, current_weight(conv), padding=self.padding)
            out = part * weights[:, k:k + 1] if out is None else out.addcmul_(part, weights[:, k:k + 1])
        return out

    def forward_separate(self, x, weights):
        """The original's computation: K convolutions, outputs stacked, weighted sum."""
        stacked = torch.stack([conv(x) for conv in self.conv_bases], dim=1)  # N, K, C, H, W
        return (stacked * weights.to(stacked.dtype).unsqueeze(2)).sum(dim=1)


class SpatialCondNorm(nn.Module):
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
        if not fast_paths_enabled(x):
            return self.forward_reference(normalized, weights)
        groups = self.affine_params_groups.t().to(normalized.dtype)      # [2C, K]
        one = torch.cat([normalized.new_ones(self.channels), normalized.new_zeros(self.channels)])
        weights = weights.to(normalized.dtype)
        no_grad = not torch.is_grad_enabled() or not any(t.requires_grad for t in (x, weights, groups))
        if no_grad and normalized is not x and normalized.is_contiguous():
            return modulate_chunks(normalized, weights, groups, one, out=normalized)  # nothing keeps it
        if (normalized.device.type == 'cpu' and not torch.is_autocast_enabled('cpu')
                and normalized.numel() // self.channels >= MODULATE_MIN_PIXELS):
            return _Modulate.apply(normalized, weights, groups, one)
        # per-pixel expert combination as a 1x1 convolution: [N, K, H, W] -> [N, 2C, H, W]
        params = F.conv2d(weights, groups[:, :, None, None], one)
        scale, shift = params.split(self.channels, dim=1)
        return torch.addcmul(shift, normalized, scale)

    def forward_reference(self, normalized, weights):
        """The original: the routing weights as rows, a matmul, back to [N, 2C, H, W]."""
        n, _, h, w = normalized.shape
        rows = weights.to(normalized.dtype).permute(0, 2, 3, 1).contiguous().view(-1, self.num_experts)
        params = torch.matmul(rows, self.affine_params_groups.to(normalized.dtype))
        params = params.view(n, h, w, -1).permute(0, 3, 1, 2).contiguous()
        gamma, beta = torch.split(params, self.channels, dim=1)
        return normalized * (1 + gamma) + beta


MODULATE_CHUNK_BYTES = 2**19  # one chunk's [1 + gamma; beta], kept in the cache between its two uses
# Under autograd, maps of at least this many pixels (batch x height x width) modulate by _Modulate's
# chunks; on smaller ones (wider: fewer pixels per chunk) its per-chunk calls cost more than they save
# (forward + backward with the norm: 0.61x autograd's at 64 channels on 256x256, 0.92 at 128x128,
# 1.2 at 64x64 and below).
MODULATE_MIN_PIXELS = 128 * 128


def _pixel_chunks(normalized, c2):
    """(image, first pixel, end pixel) of the cache-sized pixel chunks of ``normalized`` [N, C, H, W]
    for a [2C, pixels] parameter block, and a buffer for one such block."""
    pixels = normalized.shape[2] * normalized.shape[3]
    step = max(1, MODULATE_CHUNK_BYTES // (c2 * normalized.element_size()))
    chunks = [(i, p0, min(pixels, p0 + step)) for i in range(normalized.shape[0]) for p0 in range(0, pixels, step)]
    return chunks, normalized.new_empty(c2 * min(step, pixels))


def _block(buf, rows, width):
    """The first rows x width elements of ``buf`` as a contiguous [rows, width] matrix."""
    return buf[:rows * width].view(rows, width)


def modulate_chunks(normalized, weights, groups, one, out):
    """``out = normalized * (1 + gamma) + beta`` with ``[1 + gamma; beta] = groups @ weights + one``
    per pixel, chunk of pixels by chunk through one cache-sized parameter block instead of a
    [N, 2C, H, W] map (the map's fresh pages and its second pass cost more than the arithmetic).
    ``out`` may be ``normalized`` itself."""
    n, c, k = normalized.shape[0], normalized.shape[1], groups.shape[1]
    flat, mix, dest = normalized.reshape(n, c, -1), weights.reshape(n, k, -1), out.view(n, c, -1)
    chunks, buf = _pixel_chunks(normalized, 2 * c)
    for i, p0, p1 in chunks:
        params = torch.addmm(one[:, None], groups, mix[i, :, p0:p1], out=_block(buf, 2 * c, p1 - p0))
        torch.addcmul(params[c:], flat[i, :, p0:p1], params[:c], out=dest[i, :, p0:p1])
    return out


class _Modulate(torch.autograd.Function):
    """``normalized * (1 + gamma) + beta`` with ``[1 + gamma; beta] = groups @ weights + one`` per
    pixel, under autograd on the CPU: forward and backward go chunk of pixels by chunk through
    cache-sized buffers, and the [N, 2C, H, W] parameter map is neither written nor kept (the
    backward recomputes a chunk's parameters from the K routing weights). Autograd's form wrote
    the map, kept it, and concatenated its two gradient halves (SCGAN's G step at 256x256: the
    256x256 norms' 1x1 convolution gradient alone took 28 ms)."""

    @staticmethod
    def forward(ctx, normalized, weights, groups, one):
        ctx.save_for_backward(normalized, weights, groups, one)
        return modulate_chunks(normalized, weights, groups, one, torch.empty_like(normalized))

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        normalized, weights, groups, one = ctx.saved_tensors
        n, c, k = normalized.shape[0], normalized.shape[1], groups.shape[1]
        flat, mix, grad = normalized.reshape(n, c, -1), weights.reshape(n, k, -1), grad_out.reshape(n, c, -1)
        need_x, need_w, need_groups = ctx.needs_input_grad[:3]
        grad_x = torch.empty_like(flat) if need_x else None
        grad_w = torch.empty_like(mix) if need_w else None
        grad_groups = groups.new_zeros(groups.shape) if need_groups else None
        chunks, params = _pixel_chunks(normalized, 2 * c)
        grad_params = torch.empty_like(params)
        for i, p0, p1 in chunks:
            g = grad[i, :, p0:p1]
            if need_x:  # d out / d normalized = 1 + gamma
                scale = torch.addmm(one[:c, None], groups[:c], mix[i, :, p0:p1], out=_block(params, c, p1 - p0))
                torch.mul(g, scale, out=grad_x[i, :, p0:p1])
            if need_w or need_groups:  # d out / d [gamma; beta] = [normalized; 1]
                part = _block(grad_params, 2 * c, p1 - p0)
                torch.mul(g, flat[i, :, p0:p1], out=part[:c])
                part[c:].copy_(g)
                if need_w:
                    torch.mm(groups.t(), part, out=grad_w[i, :, p0:p1])
                if need_groups:
                    grad_groups.addmm_(part, mix[i, :, p0:p1].t())
        return (grad_x.view_as(normalized) if need_x else None, grad_w.view_as(weights) if need_w else None,
                grad_groups, None)
