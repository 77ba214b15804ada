"""CC-FPSE's per-pixel depthwise 3x3 convolution with predicted kernels, without an unfolded copy.

``kernels`` [N, C*9, H, W] holds a 3x3 kernel for every channel and pixel, channel-major with the
taps row-major (channel c's taps are channels 9c..9c+8), zero padding 1, cross-correlation, no bias
(``DepthConv.forward`` in models/generators/ccfpse.py, the original's unfold, is the reference):

    out[n, c, h, w] = sum_{i,j in 0..2} kernels[n, 9c + 3i + j, h, w] * x_pad[n, c, h + i, w + j]

The original unfolds the input (N x C*9 x H x W) and keeps that copy for backward. Here the nine
shifted products are accumulated instead, and backward rebuilds the shifted views from the saved
input, so no unfolded copy is ever stored:

- ``pixel_depthwise_conv(x, kernels)`` keeps x and the kernels for backward;
- ``predicted_depthwise_conv(x, hidden, weight, bias)`` also takes the last layer of the kernel
  predictor (kernels = conv2d_same(hidden)) and keeps only x and ``hidden``, recomputing the kernels in
  backward: it trades one convolution for not storing the C*9-channel kernel tensor; with
  ``keep=True`` it stores them instead (the kernels' convolution still by Winograd where that pays).
"""
import torch
from torch.autograd.function import once_differentiable

from . import winograd
from .conv3x3 import (
    TAPS,
    conv2d_same,
    conv3x3_weight_grad,
    padded,
    train_tile,
    transposed_weight,
    weight_grad_padding,
)

CHUNKS = 4  # predicted_depthwise_conv works on this many channel groups


def _apply(x, kernels, out=None):
    """The per-pixel products summed, into ``out`` (x's shape) or a new tensor."""
    n, c, h, w = x.shape
    k = kernels.view(n, c, 9, h, w)
    xp = padded(x)
    out = torch.zeros_like(x) if out is None else out.zero_()
    for t, (i, j) in enumerate(TAPS):
        out.addcmul_(k[:, :, t], xp[:, :, i:i + h, j:j + w])
    return out


def _grad_input(grad_out, kernels):
    """The input gradient."""
    n, c, h, w = grad_out.shape
    k = kernels.view(n, c, 9, h, w)
    size = (n, c, h + 2, w + 2)
    grad_xp = grad_out.new_zeros(size)
    for t, (i, j) in enumerate(TAPS):
        grad_xp[:, :, i:i + h, j:j + w].addcmul_(grad_out, k[:, :, t])
    return grad_xp[:, :, 1:h + 1, 1:w + 1]


def _grad_kernels(grad_out, x):
    """The kernels' gradient."""
    n, c, h, w = x.shape
    xp = padded(x)
    size = (n, c, 9, h, w)
    grad_k = grad_out.new_empty(size)
    for t, (i, j) in enumerate(TAPS):
        torch.mul(grad_out, xp[:, :, i:i + h, j:j + w], out=grad_k[:, :, t])
    return grad_k.view(n, c * 9, h, w)


class _PixelDepthwiseConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, kernels):
        ctx.save_for_backward(x, kernels)
        return _apply(x, kernels)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x, kernels = ctx.saved_tensors
        grad_out = grad_out.contiguous()
        grad_k = _grad_kernels(grad_out, x) if ctx.needs_input_grad[1] else None
        grad_x = _grad_input(grad_out, kernels) if ctx.needs_input_grad[0] else None
        return grad_x, grad_k


def _channel_chunks(c):
    step = max(1, -(-c // CHUNKS))
    return [(slice(c0, c0 + step), slice(9 * c0, 9 * (c0 + step))) for c0 in range(0, c, step)]


def _chunk_kernels(hidden, weight, bias, tiles=None):
    """The predicted kernels of one channel chunk (``weight`` and ``bias`` its rows); by Winograd
    from hidden's shared input ``tiles`` where given."""
    return conv2d_same(hidden, weight, bias, tile=train_tile(hidden), tiles=tiles)


def _hidden_tiles(hidden, chunk_weight, kernels, weight_grads=False):
    """hidden's Winograd input tiles, transformed once for all the channel chunks' kernel
    convolutions (``kernels``: more than one of them runs) and weight gradients (``weight_grads``)
    instead of once per call; None where none of those runs as Winograd."""
    if ((kernels and winograd.winograd_pays(hidden, chunk_weight))
            or (weight_grads and winograd.winograd_weight_grad_pays(hidden))):
        return winograd.input_tiles(hidden, train_tile(hidden))
    return None


class _PredictedDepthwiseConv(torch.autograd.Function):
    """The kernels' convolution (forward, its recomputation in backward) may run as Winograd
    (winograd.py: conv2d_same decides by size). Its weight and input (hidden) gradients: where
    the weight gradient runs as Winograd (C_hidden >= 64), both from one transform of the kernels'
    gradient, which is written straight into Winograd's tile layout and never as a map
    (winograd_conv3x3_backward); otherwise the kernels' gradient map, ``conv3x3_weight_grad``
    and the transposed convolution. Forward and backward go by channel chunks, so the kernels and
    their gradient never exist whole.
    The fused gradients take all chunks in one call, as its output-channel groups (``group=``):
    each block of tile rows sums the chunks' hidden gradients in the Winograd domain and transforms
    them back once, instead of once per chunk.

    ``keep``: the chunks' kernels are stored for x's gradient instead of recomputed (the memory of
    the whole kernel tensor for one convolution less). They are held on ``ctx``, not saved through
    save_for_backward, so that backward frees each chunk's kernels as soon as it has used them."""

    @staticmethod
    def forward(ctx, x, hidden, weight, bias, keep=False):
        ctx.save_for_backward(x, hidden, weight, bias)
        keep = keep and ctx.needs_input_grad[0]
        out = torch.empty_like(x)
        chunks = _channel_chunks(x.shape[1])
        tiles = _hidden_tiles(hidden, weight[chunks[0][1]], kernels=len(chunks) > 1)
        ctx.kept = []
        for ch, k in chunks:
            kernels = _chunk_kernels(hidden, weight[k], None if bias is None else bias[k], tiles)
            _apply(x[:, ch], kernels, out[:, ch])
            if keep:
                ctx.kept.append(kernels)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x, hidden, weight, bias = ctx.saved_tensors
        grad_out = grad_out.contiguous()
        grad_x = torch.empty_like(x) if ctx.needs_input_grad[0] else None
        grad_hidden = torch.zeros_like(hidden) if ctx.needs_input_grad[1] else None
        want_weight, want_bias = ctx.needs_input_grad[2], bias is not None and ctx.needs_input_grad[3]
        weight_grads = want_weight or want_bias
        # the kernels' gradient straight into Winograd tiles, shared by the weight and hidden gradients
        fused = (weight_grads or grad_hidden is not None) and winograd.winograd_weight_grad_pays(hidden)
        grad_weight = torch.empty_like(weight) if want_weight and not fused else None  # filled chunk by chunk
        grad_bias = torch.empty_like(bias) if want_bias and not fused else None
        hidden_pad = weight_grad_padding(hidden) if weight_grads and not fused else None
        chunks = _channel_chunks(x.shape[1])
        kept, ctx.kept = ctx.kept, None  # a second backward (retain_graph) recomputes them
        recompute = grad_x is not None and not kept
        tiles = _hidden_tiles(hidden, weight[chunks[0][1]], kernels=recompute, weight_grads=fused)
        for index, (ch, k) in enumerate(chunks):
            wk, bk = weight[k], bias[k] if bias is not None else None
            if grad_x is not None:
                kernels = _chunk_kernels(hidden, wk, bk, tiles) if recompute else kept[index]
                grad_x[:, ch] = _grad_input(grad_out[:, ch], kernels)
                if kept:
                    kept[index] = kernels = None
            if not fused and (weight_grads or grad_hidden is not None):
                gw, gb = _unfused_grads(grad_out[:, ch].contiguous(), x[:, ch], hidden, wk, grad_bias is not None,
                                        hidden_pad, weight_grads, grad_hidden)
                if grad_weight is not None:
                    grad_weight[k] = gw
                if grad_bias is not None:
                    grad_bias[k] = gb
        if fused:  # all chunks in one call: hidden's gradient transformed back once, not once per chunk
            grad_weight, grad_bias = winograd.winograd_conv3x3_backward(
                hidden, weight, fill_grad_out=_kernel_grad_filler(grad_out, x), tiles=tiles, grad_x=grad_hidden,
                weight_grad=want_weight, bias_grad=want_bias, tile=train_tile(hidden),
                group=chunks[0][1].stop - chunks[0][1].start)
        return grad_x, grad_hidden, grad_weight, grad_bias, None


def _unfused_grads(grad_out, x, hidden, weight, with_bias, hidden_pad, weight_grads, grad_hidden):
    """(weight gradient, bias gradient) of one channel chunk's kernel convolution, the hidden
    gradient added into ``grad_hidden``, from the kernels' gradient."""
    grad_k = _grad_kernels(grad_out, x)
    gw = gb = None
    if weight_grads:
        gw, gb = conv3x3_weight_grad(grad_k, hidden, weight, with_bias, hidden_pad)
    if grad_hidden is not None:  # the transposed convolution: flipped taps, in/out swapped
        grad_hidden += conv2d_same(grad_k, transposed_weight(weight), tile=train_tile(hidden))
    return gw, gb


def _kernel_grad_filler(grad_out, x):
    """winograd_conv3x3_backward's ``fill_grad_out`` for the kernels' gradient, grad_out[c] times x[c]
    shifted by tap t at kernel channel 9c + t (as _grad_kernels), written per tile position: one
    product per position (i, j) of the tile with the 3x3 taps of padded x as a strided view. Kernel
    channels c0..c1 come in whole channels of x (multiples of 9); each call pads only the rows of x
    its block of tile rows reads, for those channels (not all of x at once: the backward's peak)."""
    n, c, h, w = x.shape
    m = train_tile(x)

    def fill(dy, n0, n1, r0, r1, c0, c1):
        x0, cc = c0 // 9, (c1 - c0) // 9
        y0 = m * r0                                                 # the window's first row, padded x's rows
        xw = padded(x[n0:n1, x0:x0 + cc], rows=(y0, min(h + 2, m * r1 + 2)))
        sn, sc, sy, sx = xw.stride()
        dy = dy.view(m, m, cc, 3, 3, n1 - n0, r1 - r0, dy.shape[-1])
        for i, j, rows, cols, (ys, xs) in winograd.tile_planes(r0, r1, h, w, m):
            dst = dy[i, j]                                          # [cc, 3, 3, nb, rows, tw + 1]
            if rows:
                taps = xw.as_strided((cc, 3, 3, n1 - n0, rows, cols), (sc, sy, sx, sn, m * sy, m * sx),
                                     xw.storage_offset() + (ys.start - y0) * sy + j * sx)
                torch.mul(grad_out[n0:n1, x0:x0 + cc, ys, xs].permute(1, 0, 2, 3)[:, None, None], taps,
                          out=dst[..., :rows, :cols])
            dst[..., rows:, :].zero_()
            dst[..., cols:].zero_()
    return fill


def _compute_dtype(*tensors):
    """At least float32 (half-precision inputs under autocast), float64 stays float64."""
    dtype = torch.float32
    for t in tensors:
        if t is not None:
            dtype = torch.promote_types(dtype, t.dtype)
    return dtype


def _check(x, channels9):
    n, c, h, w = x.shape
    if channels9 != c * 9:
        raise ValueError(f'kernels must have {c * 9} channels (9 per input channel) for input {tuple(x.shape)}, '
                         f'got {channels9}')


def pixel_depthwise_conv(x, kernels):
    """Memory-lean per-pixel depthwise 3x3 convolution; same values and gradients as the unfold one.

    Computed in float32 also under autocast: nine products are summed per output."""
    _check(x, kernels.shape[1])
    if kernels.shape != (x.shape[0], x.shape[1] * 9) + tuple(x.shape[2:]):
        raise ValueError(f'kernels must have shape {(x.shape[0], x.shape[1] * 9) + tuple(x.shape[2:])}, '
                         f'got {tuple(kernels.shape)}')
    dtype = _compute_dtype(x, kernels)
    with torch.autocast(device_type=x.device.type, enabled=False):
        return _PixelDepthwiseConv.apply(x.to(dtype).contiguous(), kernels.to(dtype).contiguous())


def predicted_depthwise_conv(x, hidden, weight, bias=None, keep=False):
    """pixel_depthwise_conv(x, conv2d(hidden, weight, bias, padding=1)), without storing the kernels
    unless ``keep`` (then backward does not recompute them)."""
    _check(x, weight.shape[0])
    if weight.shape[2:] != (3, 3):
        raise ValueError(f'the kernel predictor layer must be a 3x3 convolution, got {tuple(weight.shape)}')
    dtype = _compute_dtype(x, hidden, weight, bias)
    with torch.autocast(device_type=x.device.type, enabled=False):
        # channels-first, as its kernels read them (--channels_last gives NHWC maps)
        return _PredictedDepthwiseConv.apply(x.to(dtype).contiguous(), hidden.to(dtype).contiguous(),
                                             weight.to(dtype), None if bias is None else bias.to(dtype), keep)
