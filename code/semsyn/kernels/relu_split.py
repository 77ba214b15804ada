"""``relu(x).split(sizes, dim=1)`` whose backward writes one gradient map.

Autograd's split concatenates the parts' gradients into a new map and the ReLU's backward then
masks that into another; here each part's gradient is masked straight into its channels of one map:
one pass and one map fewer (CC-FPSE's fused kernel-predictor layers: 640 channels, 168 MB at
256x256). The parts are contiguous maps of their own, as their convolutions read them.
"""
import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable


class _ReluSplit(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, sizes):
        parts = [F.relu(p).contiguous() for p in x.split(sizes, dim=1)]
        ctx.save_for_backward(*parts)
        return tuple(parts)

    @staticmethod
    @once_differentiable
    def backward(ctx, *grads):
        parts = ctx.saved_tensors
        sizes = [part.shape[1] for part in parts]
        n, _, h, w = parts[0].shape
        grad = parts[0].new_empty(n, sum(sizes), h, w)
        for g, part, into in zip(grads, parts, grad.split(sizes, dim=1)):
            if g is None:
                into.zero_()
            else:
                torch.ops.aten.threshold_backward.grad_input(g, part, 0, grad_input=into)
        return grad, None


def relu_split(x, sizes):
    """``F.relu(x).split(sizes, dim=1)`` for a map x [N, C, H, W], each part contiguous."""
    if x.dim() != 4 or sum(sizes) != x.shape[1]:
        raise ValueError(f'relu_split: sizes {list(sizes)} must add up to the channels of a map [N, C, H, W], '
                         f'got {tuple(x.shape)}')
    return _ReluSplit.apply(x, list(sizes))
