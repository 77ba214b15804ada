"""A kxk convolution evaluated at some pixels only, from a table of input rows.

``patch_conv(rows, neighbours, weight, bias, scatter)``: ``rows`` [R, C] holds the input at the
pixels it is needed (the last row zero: the padding), ``neighbours`` [P, k*k] for each output pixel
the row of the input under each tap (row-major taps), ``weight`` the usual [C_out, C, k, k]. Output
[P, C_out] = im2col rows times the weight matrix, computed in chunks of pixels; backward
recomputes the im2col rows instead of keeping them (k*k*C values per pixel), and adds the input
gradient back into ``rows`` with ``scatter`` (a ScatterAdd of ``neighbours.reshape(-1)``).
"""
import torch
from torch.autograd.function import once_differentiable

CHUNK = 8192  # output pixels per im2col block (8192 x 1152 floats = 36 MiB for 128 channels, 3x3)


def weight_matrix(weight):
    """[k*k*C, C_out], rows ordered as the gathered patch (tap-major, channel-minor)."""
    cout, cin, kh, kw = weight.shape
    return weight.permute(2, 3, 1, 0).reshape(kh * kw * cin, cout)


def _patches(rows, neighbours):
    return rows.index_select(0, neighbours.reshape(-1)).view(neighbours.shape[0], -1)


class _PatchConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, rows, neighbours, matrix, bias, scatter):
        ctx.save_for_backward(rows, neighbours, matrix)
        ctx.scatter, ctx.has_bias = scatter, bias is not None
        out = rows.new_empty(neighbours.shape[0], matrix.shape[1])
        for start in range(0, neighbours.shape[0], CHUNK):
            block = _patches(rows, neighbours[start:start + CHUNK])
            if bias is None:
                torch.mm(block, matrix, out=out[start:start + CHUNK])
            else:
                torch.addmm(bias, block, matrix, out=out[start:start + CHUNK])
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        rows, neighbours, matrix = ctx.saved_tensors
        grad = grad.contiguous()
        grad_rows = grad_matrix = grad_bias = None
        if ctx.needs_input_grad[2]:
            grad_matrix = torch.zeros_like(matrix)
            for start in range(0, neighbours.shape[0], CHUNK):
                block = _patches(rows, neighbours[start:start + CHUNK])
                grad_matrix.addmm_(block.t(), grad[start:start + CHUNK])
        if ctx.needs_input_grad[0]:
            grad_rows = ctx.scatter((grad @ matrix.t()).view(-1, rows.shape[1]))  # [P * k*k, C] summed
        if ctx.has_bias and ctx.needs_input_grad[3]:
            grad_bias = grad.sum(0)
        return grad_rows, None, grad_matrix, grad_bias, None


def patch_conv(rows, neighbours, weight, bias, scatter):
    return _PatchConv.apply(rows, neighbours, weight_matrix(weight), bias, scatter)
