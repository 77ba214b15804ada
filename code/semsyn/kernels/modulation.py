"""SPADE's last step, ``normalized * (1 + gamma) + beta``, from the fast paths' one map
``params = [1 + gamma; beta]`` [N, 2C, H, W] (gamma's and beta's convolutions fused), written over
params' beta half.

The norm's backward needs 1 + gamma (and the normalized input). As a view of params it keeps the
whole map until backward, beta's half included, and the norm's output is another map, which the
next layer keeps too (its convolution's or activation's input). Written over beta's half, one map
holds both: per norm one C-channel map less from forward to backward, and without a gradient one
map less alive at a time. With a batch of more than one the result is a strided view (beta's
channels of each image).
"""
import torch
from torch.autograd.function import once_differentiable


class _ModulateOverShift(torch.autograd.Function):
    """params[:, C:] += normalized * params[:, :C] in place; returns params (the caller takes the
    second half). params comes first: where it is a view, autograd's in-place bookkeeping for views
    (CopySlices) takes the first input's gradient as the view's."""

    @staticmethod
    def forward(ctx, params, normalized):
        c = normalized.shape[1]
        params[:, c:].addcmul_(normalized, params[:, :c])
        ctx.mark_dirty(params)
        ctx.save_for_backward(normalized, params)
        return params

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        normalized, params = ctx.saved_tensors
        c = normalized.shape[1]
        grad_out = grad[:, c:]
        grad_params = grad_normalized = None
        if ctx.needs_input_grad[0]:
            grad_params = torch.empty_like(params)
            torch.mul(grad_out, normalized, out=grad_params[:, :c])
            grad_params[:, c:].copy_(grad_out)
        if ctx.needs_input_grad[1]:
            grad_normalized = grad_out * params[:, :c]
        return grad_params, grad_normalized


def modulate(normalized, params):
    """``normalized * params[:, :C] + params[:, C:]`` for normalized [N, C, H, W] and a new map
    ``params`` [N, 2C, H, W] that nothing else reads afterwards (it is overwritten); a view of
    params. Where the two dtypes differ (autocast) it is an ordinary addcmul into a new map."""
    c = normalized.shape[1]
    if params.shape[1] != 2 * c or params.shape[0] != normalized.shape[0] or params.shape[2:] != normalized.shape[2:]:
        raise ValueError(f'modulate: params must be [N, 2C, H, W] for normalized {tuple(normalized.shape)}, '
                         f'got {tuple(params.shape)}')
    if params.dtype != torch.promote_types(params.dtype, normalized.dtype):
        scale, shift = params.split(c, dim=1)
        return torch.addcmul(shift, normalized, scale)
    return _ModulateOverShift.apply(params, normalized)[:, c:]
