"""Convolution over [one-hot label map, other channels] with the one-hot part as lookups.

On a one-hot map, ``conv2d(one_hot, W)`` at a pixel is ``sum over taps t=(i, j) of W[:, label under
tap t, i, j]``: k*k row lookups in a table of the weight's columns instead of a convolution over
all label channels (for ADE20K's 151 channels and 3x3 kernels, 151x fewer operations). Its weight
gradient is the matching scatter-add (ops/scatter.py). The other input channels (instance edges,
CC-FPSE's label features) go through an ordinary convolution with the remaining weight columns.
"""
import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from .conv3x3 import conv2d_same
from .scatter import gather_bags

# Pixels per block when the lookups' channels-last rows go into a channels-first map: the block's
# rows (2^17 floats, 512 KiB, or 256 pixels where that is more) stay in cache while the map's
# channel rows are written.
# Whole-map, the element-wise add reads the rows at a stride of C floats per pixel: 160 -> 34 ms for
# 640 channels at 256x256, 145 -> 58 ms at 128x128 x8; the copy 131 -> 33 ms (640 channels). Below
# 128 channels (or a map of one block) the whole-map operation is as fast or faster (16-64 channels).
_BLOCK_FLOATS, _MIN_BLOCK_PIXELS, _MIN_CHANNELS = 2 ** 17, 256, 128


def tap_table(weight, num_classes):
    """[k*k*(num_classes + 1), C_out]: row ``t*(num_classes+1) + l`` is ``weight[:, l, i, j]`` for tap
    t = (i, j) row-major; row ``t*(num_classes+1) + num_classes`` is zero (the padding outside the map)."""
    cout, k = weight.shape[0], weight.shape[-1]
    columns = weight[:, :num_classes].permute(2, 3, 1, 0)  # k, k, L, C_out
    return F.pad(columns, (0, 0, 0, 1)).reshape(k * k * (num_classes + 1), cout)


def label_conv_rows(label_map, weight, pixels=None, stride=1, padding=None, image_shape=None):
    """The one-hot channels' part of the convolution (no bias), [M, C_out], at every output pixel
    (M = N*H'*W', row-major) or at ``pixels`` (see LabelMap.taps); with ``image_shape`` (N, H', W')
    the rows as a channels-first map [N, C_out, H', W'] (a view, see scatter.gather_bags)."""
    index, scatter = label_map.taps(weight.shape[-1], pixels, stride, padding)
    return gather_bags(tap_table(weight, label_map.num_classes), index, scatter, image_shape)


def label_conv(label_map, weight, bias=None, rest=None, stride=1, padding=None):
    """``F.conv2d(cat([one_hot(label_map), rest], 1), weight, bias, stride, padding)`` (padding
    default k // 2) with the one-hot channels looked up: ``weight`` [C_out, num_classes + C_rest, k, k];
    ``rest`` the other input channels [N, C_rest, H, W] (None when there are none). Returns
    [N, C_out, H', W'], contiguous (the lookups give channels-last rows; batch norms on channels-last
    inputs lose precision on the CPU, and CC-FPSE's kernels are read channel by channel)."""
    k = weight.shape[-1]
    padding = k // 2 if padding is None else padding
    n, (h, w) = label_map.labels.shape[0], label_map.output_size(k, stride, padding)
    num_classes = label_map.num_classes
    expected = weight.shape[1] - num_classes
    if (0 if rest is None else rest.shape[1]) != expected:
        raise ValueError(f'the convolution takes {weight.shape[1]} input channels, {num_classes} of them one-hot: '
                         f'expected {expected} other channels, got {None if rest is None else rest.shape[1]}')
    looked_up = label_conv_rows(label_map, weight, stride=stride, padding=padding, image_shape=(n, h, w))
    # the sums go in place into one new map (these maps are the largest of CC-FPSE's blocks,
    # and on the CPU every new one costs its pages' faults)
    if rest is None:
        out = _RowsIntoMap.apply(looked_up, None)  # never the Function's own view: added to in place
        return out if bias is None else out.add_(bias.view(-1, 1, 1))
    if stride == 1 and 2 * padding == k - 1:
        out = conv2d_same(rest, weight[:, num_classes:], bias)
    else:
        out = F.conv2d(rest, weight[:, num_classes:], bias, stride=stride, padding=padding)
    out = out.contiguous()  # aten's convolution answers channels_last inputs (--channels_last) in kind
    return _RowsIntoMap.apply(looked_up, out)


def _rows_into(out, rows_map, add):
    """out [N, C, H, W] (contiguous) = or += rows_map, the channels-first view of channels-last rows
    (gather_bags' image_shape form): on the CPU block by block of pixels, else in one operation."""
    n, c, h, w = out.shape
    rows = rows_map.permute(0, 2, 3, 1)
    block = max(_MIN_BLOCK_PIXELS, _BLOCK_FLOATS // max(1, c))
    if (out.device.type != 'cpu' or c < _MIN_CHANNELS or h * w <= block or not rows.is_contiguous()
            or not out.is_contiguous()):
        return out.add_(rows_map) if add else out.copy_(rows_map)
    o, r = out.view(n, c, h * w), rows.view(n, h * w, c)
    for i in range(n):
        for p in range(0, h * w, block):
            dst, src = o[i, :, p:p + block], r[i, p:p + block].t()
            if add:
                dst.add_(src)
            else:
                dst.copy_(src)
    return out


class _RowsIntoMap(torch.autograd.Function):
    """``out.add_(rows_map)`` in place, or with ``out`` None ``rows_map.clone(memory_format=
    torch.contiguous_format)``, block by block (_rows_into). The gradient passes through to both."""

    @staticmethod
    def forward(ctx, rows_map, out):
        if out is None:
            return _rows_into(rows_map.new_empty(rows_map.shape), rows_map, False)
        ctx.mark_dirty(out)
        return _rows_into(out, rows_map, True)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        return grad, grad if ctx.needs_input_grad[1] else None
