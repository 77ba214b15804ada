"""SCGAN's spatial conditional layers (models/ops/spatial_conditional.py) on the CPU.

``SpatialCondConv2d``: the K expert convolutions as one convolution whose weight is the K expert
weights concatenated along the output channels (each expert still spectral-normed from its own
``weight_u``/``weight_v``, power iteration included in training mode), mixed by ``_MixExperts``
without the stacked [N, K, C, H, W] copy; without a gradient as Winograd where that pays
(kernels/conv3x3.py), the joined weight kept in eval mode while the experts are unchanged
(models/ops/kept.py). Under autograd on small maps (at most ``JOIN_MIN_PIXELS`` pixels) the experts
convolve one by one instead, their outputs summed in place: there the joined weight, concatenated
and differentiated every step, costs more than the one convolution saves.

``SpatialCondNorm``: [1 + gamma; beta] from the routing weights as one 1x1 convolution (the 1 as its
bias) and the norm as one addcmul; on the CPU chunk by chunk of pixels through a cache-sized
parameter block instead (``modulate_chunks``): without a gradient over the normalised map itself,
under autograd on maps of at least ``MODULATE_MIN_PIXELS`` pixels in ``_Modulate`` (parameters
recomputed in the backward, the [N, 2C, H, W] map never written).

Both apply where the kernels run on x's device.
"""
import weakref

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from ..models.dispatch import register
from ..models.ops.kept import Kept, reuse_allowed
from ..models.ops.spatial_conditional import SpatialCondConv2d, SpatialCondNorm
from ..models.ops.spectral import current_weight
from ..paths import fast_paths_enabled
from .conv3x3 import conv2d_same

# -- the expert convolution ------------------------------------------------------------------------
# Under autograd, on maps of at most this many pixels (batch x height x width) the experts convolve
# one by one; larger maps and every call without a gradient take the joined weight.
JOIN_MIN_PIXELS = 512

_joined = weakref.WeakKeyDictionary()  # layer -> Kept joined weight (eval mode, CPU)


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


def joined_weight(layer):
    """The K expert weights concatenated along the output channels (kept in eval mode on the CPU
    while the experts' weights are unchanged)."""
    experts = [current_weight(conv) for conv in layer.conv_bases]
    if not reuse_allowed(layer, experts[0]):
        _joined.pop(layer, None)
        return torch.cat(experts, dim=0)
    kept = _joined.setdefault(layer, Kept())
    return kept.get(experts, lambda: torch.cat(experts, dim=0))


def unjoined(layer, x, weights):
    """The K convolutions one by one, their outputs summed in place (no stacked copy)."""
    weights = weights.to(x.dtype)
    out = None
    for k, conv in enumerate(layer.conv_bases):
        part = F.conv2d(x, current_weight(conv), padding=layer.padding)
        out = part * weights[:, k:k + 1] if out is None else out.addcmul_(part, weights[:, k:k + 1])
    return out


def conv_applies(layer, context, x, weights):
    return fast_paths_enabled(x) and weights.shape[1] == layer.num_experts


def conv_run(layer, context, x, weights):
    if torch.is_grad_enabled() and x.shape[0] * x.shape[2] * x.shape[3] <= JOIN_MIN_PIXELS:
        return unjoined(layer, x, weights)
    return mix_experts(conv2d_same(x, joined_weight(layer)), weights, layer.num_experts)


# -- the norm --------------------------------------------------------------------------------------
MODULATE_CHUNK_BYTES = 2**19  # one chunk's [1 + gamma; beta], kept in the cache between its two uses
# Under autograd, maps of at least this many pixels (batch x height x width) modulate by _Modulate's
# chunks; on smaller ones (wider: fewer pixels per chunk) its per-chunk calls cost more than they save.
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
    [N, 2C, H, W] map. ``out`` may be ``normalized`` itself."""
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
    backward recomputes a chunk's parameters from the K routing weights)."""

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


def norm_applies(norm, context, x, weights):
    return fast_paths_enabled(x) and weights.shape[1] == norm.num_experts


def norm_run(norm, context, x, weights):
    normalized = norm.param_free_norm(x)
    groups = norm.affine_params_groups.t().to(normalized.dtype)      # [2C, K]
    one = torch.cat([normalized.new_ones(norm.channels), normalized.new_zeros(norm.channels)])
    weights = weights.to(normalized.dtype)
    no_grad = not torch.is_grad_enabled() or not any(t.requires_grad for t in (x, weights, groups))
    if no_grad and normalized is not x and normalized.is_contiguous():
        return modulate_chunks(normalized, weights, groups, one, out=normalized)  # nothing keeps it
    if (normalized.device.type == 'cpu' and not torch.is_autocast_enabled('cpu')
            and normalized.numel() // norm.channels >= MODULATE_MIN_PIXELS):
        return _Modulate.apply(normalized, weights, groups, one)
    # per-pixel expert combination as a 1x1 convolution: [N, K, H, W] -> [N, 2C, H, W]
    params = F.conv2d(weights, groups[:, :, None, None], one)
    scale, shift = params.split(norm.channels, dim=1)
    return torch.addcmul(shift, normalized, scale)


register(SpatialCondConv2d, conv_applies, conv_run)
register(SpatialCondNorm, norm_applies, norm_run)
