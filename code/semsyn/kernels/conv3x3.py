"""The fast paths' 'same' convolutions (stride 1, padding k // 2): which algorithm runs where.

``conv2d_same(x, weight, bias)`` is ``F.conv2d(x, weight, bias, padding=k // 2)``, computed

- without a gradient, on the CPU, where ``winograd_pays``: Winograd (winograd.py), F(4x4, 3x3)
  by default (inference), the training tile with ``tile=train_tile(x)`` (inside the training code
  of depthwise.py);
- with a gradient, on the CPU, where ``winograd_trains`` (wide 3x3 layers): by ``_Conv3x3``, an
  autograd Function whose forward and input gradient are Winograd with the training tile and whose
  weight gradient is ``conv3x3_weight_grad``'s (Winograd too where C_in >= 64, else GEMMs);
- otherwise by ``F.conv2d``.

The training tile (``train_tile``): F(3x3, 3x3) on maps of at least 64x64 pixels, F(2x2, 3x3) on
smaller ones. F(2x2) is as accurate as the direct convolution; F(3x3) takes 2.8 products per
output instead of 4 at about 3x F(2x2)'s float32 error (1e-6 of the largest output), and the
gradients stay within 1e-5 of the reference path's. F(3x3) is the faster of the two from 64x64
pixels on; on smaller maps each product saved costs more tiles' transform work and the GEMMs are
smaller, and F(2x2) stays.
"""
import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from . import winograd  # winograd's functions through the module: tests replace them

UNFOLD_BLOCK_BYTES = 16 * 2**20  # one block of image rows of the unfolded input (weight gradient)
TRAIN_F3_MIN_PIXELS = 64 * 64  # training's F(3x3, 3x3) from this many pixels per image, else F(2x2)
TAPS = [(i, j) for i in range(3) for j in range(3)]  # a 3x3 kernel's taps, row-major


def conv2d_same(x, weight, bias=None, tile=4, tiles=None):
    """``F.conv2d(x, weight, bias, padding=k // 2)`` (stride 1); see the module's docstring for the
    algorithm. ``tile`` (no gradient): 4, F(4x4, 3x3), the fewest products, float32 values within about
    1e-5 of the largest output (float32 accumulation over C_in, amplified by the output transform):
    inference; 2, F(2x2, 3x3), as accurate as the direct convolution; 3, F(3x3, 3x3), in between
    (training on large maps: ``train_tile``). ``tiles``:
    ``winograd.input_tiles(x, tile)``, for the no-gradient Winograd path, when the caller convolves
    x several times."""
    if not _needs_grad(x, weight, bias):
        if winograd.winograd_pays(x, weight):
            return winograd.winograd_conv3x3(x, weight, bias, tile=tile, tiles=tiles)
    elif winograd.winograd_trains(x, weight):
        return _Conv3x3.apply(x, weight, bias)
    return F.conv2d(x, weight, bias, padding=weight.shape[-1] // 2)


def train_tile(x):
    """The Winograd tile m of F(m x m, 3x3) for the training convolutions of the map ``x`` (see the
    module's docstring): its size alone decides, so a run's arithmetic does not depend on timings."""
    return 3 if x.shape[2] * x.shape[3] >= TRAIN_F3_MIN_PIXELS else 2


def _needs_grad(*tensors):
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


# with C_out >= this x C_in, _Conv3x3's two gradients come from one Winograd transform of the output
# gradient (winograd_conv3x3_backward), faster there than the separate gradients; not below
SHARED_BACKWARD_RATIO = 2


class _Conv3x3(torch.autograd.Function):
    """F.conv2d(x, weight, bias, padding=1): Winograd forward with the training tile (train_tile).
    Backward: where C_out >= SHARED_BACKWARD_RATIO x C_in, both gradients by winograd_conv3x3_backward
    (the adjoint of the forward, one transform of the output gradient); otherwise the input gradient
    as the Winograd convolution of the output gradient with the flipped, transposed weight, and the
    weight gradient conv3x3_weight_grad's."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.with_bias = bias is not None
        return winograd.winograd_conv3x3(x, weight, bias, tile=train_tile(x))

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        grad_out = grad_out.contiguous()
        with_bias = ctx.with_bias and ctx.needs_input_grad[2]
        if weight.shape[0] >= SHARED_BACKWARD_RATIO * weight.shape[1]:
            grad_x = x.new_zeros(x.shape) if ctx.needs_input_grad[0] else None  # contiguous, as x may not be
            grad_weight, grad_bias = winograd.winograd_conv3x3_backward(
                x, weight, grad_out=grad_out, grad_x=grad_x, weight_grad=ctx.needs_input_grad[1],
                bias_grad=with_bias, tile=train_tile(x))
            return grad_x, grad_weight, grad_bias
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = winograd.winograd_conv3x3(grad_out, transposed_weight(weight), tile=train_tile(x))
        if ctx.needs_input_grad[1] or with_bias:
            grad_weight, grad_bias = conv3x3_weight_grad(grad_out, x, weight, with_bias)
        return grad_x, grad_weight if ctx.needs_input_grad[1] else None, grad_bias


def transposed_weight(weight):
    """The weight of the convolution that gives a 3x3 'same' convolution's input gradient from its
    output gradient: taps flipped, input and output channels swapped."""
    return weight.flip(2, 3).transpose(0, 1)


def padded(x, rows=None):
    """``x`` zero-padded by one pixel on each side; with ``rows`` = (p0, p1) only the padded map's
    rows p0..p1 (padded row p is x's row p - 1)."""
    n, c, h, w = x.shape
    p0, p1 = rows or (0, h + 2)
    xp = x.new_empty((n, c, p1 - p0, w + 2))
    lo, hi = max(p0, 1), min(p1, h + 1)                             # padded rows holding x's rows
    xp[:, :, :lo - p0].zero_()
    xp[:, :, hi - p0:].zero_()
    inside = xp[:, :, lo - p0:hi - p0]
    inside[..., 0].zero_()
    inside[..., w + 1].zero_()
    inside[..., 1:w + 1].copy_(x[:, :, lo - 1:hi - 1])
    return xp


def conv3x3_weight_grad(grad_out, x, weight, with_bias, x_padded=None, tiles=None):
    """(weight gradient [C_out, C_in, 3, 3], bias gradient [C_out] or None) of
    ``F.conv2d(x, weight, bias, padding=1)`` for ``grad_out`` [N, C_out, H, W]; ``x_padded``: x
    zero-padded by one pixel, when the caller has it already (``weight_grad_padding``); ``tiles``:
    ``winograd.input_tiles(x, train_tile(x))``, likewise, for the Winograd form.

    On the CPU, where ``winograd_weight_grad_pays`` (C_in >= 64 on the fast paths), as Winograd with
    the training tile (winograd.py; F(2x2): 4 products per pixel instead of 9, as accurate);
    otherwise as GEMMs of grad_out with the unfolded input, block of image rows by block: a GEMM
    with the pixels as its inner dimension, faster than aten's weight gradient on CC-FPSE's kernel
    predictors' shapes. Elsewhere aten's."""
    n, cin, h, w = x.shape
    cout = grad_out.shape[1]
    if x.device.type != 'cpu':
        _, gw, gb = torch.ops.aten.convolution_backward(
            grad_out, x, weight, [cout], [1, 1], [1, 1], [1, 1], False, [0, 0], 1,
            [False, True, with_bias])
        return gw, gb
    bias_grad = grad_out.sum((0, 2, 3)) if with_bias else None
    if winograd.winograd_weight_grad_pays(x):
        return winograd.winograd_weight_grad3x3(grad_out, x, tile=train_tile(x), tiles=tiles), bias_grad
    xp = padded(x) if x_padded is None else x_padded
    rows = max(1, min(h, UNFOLD_BLOCK_BYTES // (cin * 9 * w * x.element_size())))
    buf = x.new_empty(cin * 9 * rows * w)
    gw = x.new_zeros(cout, cin * 9)
    for i in range(n):
        for r0 in range(0, h, rows):
            r1 = min(h, r0 + rows)
            cols = buf[:cin * 9 * (r1 - r0) * w].view(cin, 9, r1 - r0, w)
            for t, (a, b) in enumerate(TAPS):
                cols[:, t].copy_(xp[i, :, r0 + a:r1 + a, b:b + w])
            gw.addmm_(grad_out[i, :, r0:r1].reshape(cout, -1), cols.view(cin * 9, -1).t())
    return gw.view(cout, cin, 3, 3), bias_grad


def weight_grad_padding(x):
    """For repeated conv3x3_weight_grad calls with the input ``x``: x zero-padded once,
    where they run as GEMMs and would each pad it; None where they run as Winograd."""
    if x.device.type == 'cpu' and not winograd.winograd_weight_grad_pays(x):
        return padded(x)
    return None
