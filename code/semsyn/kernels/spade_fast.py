"""SPADE's gamma and beta from a LabelMap, without convolving the one-hot map.

Reference: ``actv = relu(conv_k(one_hot, W_s))``, ``[gamma; beta] = conv_k(actv, [W_g; W_b])``.

- ``modulation_dense``: the shared convolution as lookups (ops/label_conv.py), gamma and beta as one
  convolution with the two weights concatenated (one pass over ``actv`` instead of two).
- ``modulation_uniform``: gamma and beta at a pixel depend only on the labels in its
  (2k-1)x(2k-1) window. Where that window lies inside the map and holds one label l (most pixels
  of a real label map at the high resolutions: 85-90% at 256x256 for ADE20K maps), they are
  ``G[l] = b + sum_taps(W_gb) @ relu(b_s + sum_taps(W_s[:, l]))``, one table row per class.
  Only the pixels near a label border (or the map's edge) are convolved, from ``actv`` computed at
  their neighbours only (ops/patch_conv.py). It needs the border pixels' count (one host sync per
  resolution), so it runs on the CPU; ``label_modulation`` picks it when few enough pixels are near a
  border, the dense form otherwise.

Both are the reference's arithmetic regrouped: equal to float rounding, gradients included. They
return one map [1 + gamma; beta] [N, 2C, H, W]: the 1 is folded into gamma's bias, so the norm is
one addcmul (ops/modulation.py). Their outputs are contiguous (channels-first), as the reference's.
"""
import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from .conv3x3 import conv2d_same
from .label_conv import label_conv, label_conv_rows
from .patch_conv import patch_conv
from .scatter import ScatterAdd

UNIFORM_BELOW = 0.6  # the uniform-region form when less than this fraction of pixels is near a border


def fused_weight(spade):
    """gamma's and beta's convolutions as one: weight [2C, nhidden, k, k], bias [2C] with 1 added to
    gamma's half (the convolution then gives 1 + gamma)."""
    gamma, beta = spade.mlp_gamma, spade.mlp_beta
    return torch.cat([gamma.weight, beta.weight]), torch.cat([gamma.bias + 1, beta.bias])


def modulation_from_hidden(spade, actv):
    """[1 + gamma; beta] from ``actv`` (the output of mlp_shared), one convolution."""
    weight, bias = fused_weight(spade)
    return conv2d_same(actv, weight, bias)


def modulation_dense(spade, label_map):
    shared = spade.mlp_shared[0]
    actv = F.relu(label_conv(label_map, shared.weight, shared.bias, label_map.extra))
    return modulation_from_hidden(spade, actv)


def border_geometry(label_map, k):
    """Where the uniform-region form convolves, shared by the SPADE norms at one resolution: the border
    pixels (window not uniform) as (image, pixel) indices (``border_at``), the flat indices of the
    pixels whose ``actv`` they read (``near``), each border pixel's k*k neighbours as rows of the
    ``near`` table (the zero row last, for taps outside the map) and that gather's scatter-add, the
    labels with the border pixels sent to an extra class (``region_labels``); None when too many
    pixels are near a border."""
    def build():
        p = k // 2
        uniform = label_map.uniform(2 * p)
        n, h, w = uniform.shape
        border = (~uniform).reshape(-1).nonzero()[:, 0]  # the host sync
        if border.numel() >= UNIFORM_BELOW * uniform.numel():
            return None
        near = (F.max_pool2d((~uniform)[:, None].float(), k, 1, p)[:, 0] > 0).reshape(-1).nonzero()[:, 0]
        hp, wp = h + 2 * p, w + 2 * p
        inner = torch.full((n * h * w,), near.numel(), dtype=torch.long, device=near.device)
        inner[near] = torch.arange(near.numel(), device=near.device)
        rowmap = torch.full((n, hp, wp), near.numel(), dtype=torch.long, device=near.device)
        rowmap[:, p:p + h, p:p + w] = inner.view(n, h, w)
        image, pixel = border // (h * w), border % (h * w)
        corner = image * hp * wp + (pixel // w) * wp + pixel % w
        taps = (torch.arange(k, device=near.device)[:, None] * wp + torch.arange(k, device=near.device)).reshape(-1)
        neighbours = rowmap.reshape(-1)[corner[:, None] + taps]
        # per image [N, 1, H*W]: the labels, with the border pixels sent to an extra class (dropped)
        region = label_map.labels.masked_fill(~uniform, label_map.num_classes).view(n, 1, h * w)
        return {'near': near, 'neighbours': neighbours,
                'scatter': ScatterAdd(neighbours.reshape(-1), near.numel() + 1),
                'region_labels': region, 'border_at': (image, pixel)}
    return label_map.cached(('border_geometry', k), build)


class _RegionValues(torch.autograd.Function):
    """[N, D, H*W], channels-first: out[n, :, p] = table[labels[n, p]], except at the border pixels
    (image, pixel) = border_values rows. One gather per channel from a [D, classes] table (a row of
    151 values stays in cache): no channels-last lookup rows and no transposing copy of them."""

    @staticmethod
    def forward(ctx, table, labels, region_labels, border_at, border_values):
        n, _, hw = labels.shape
        columns = table.t().contiguous()
        out = torch.gather(columns.expand(n, -1, -1), 2, labels.expand(-1, columns.shape[0], -1))
        out[border_at[0], :, border_at[1]] = border_values
        ctx.save_for_backward(region_labels, *border_at)
        ctx.num_classes = table.shape[0]
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        region_labels, image, pixel = ctx.saved_tensors
        n, d, _ = grad.shape
        # the uniform pixels' gradient summed per class; the border pixels' go to the extra column
        sums = grad.new_zeros(n, d, ctx.num_classes + 1).scatter_add_(2, region_labels.expand(-1, d, -1), grad)
        grad_table = sums.sum(0)[:, :ctx.num_classes].t()
        return grad_table, None, None, None, grad[image, :, pixel]


def modulation_uniform(spade, label_map, geometry):
    shared = spade.mlp_shared[0]
    weight, bias = fused_weight(spade)
    k, nh, num_classes = weight.shape[-1], shared.weight.shape[0], label_map.num_classes
    n, (h, w) = label_map.labels.shape[0], label_map.size
    near = geometry['near']
    # actv at the pixels the border pixels read
    pre = label_conv_rows(label_map, shared.weight, pixels=(('near', k), near)) + shared.bias
    if label_map.extra is not None:
        rest = F.conv2d(label_map.extra, shared.weight[:, num_classes:], padding=k // 2)
        pre = pre + rest.permute(0, 2, 3, 1).reshape(-1, nh).index_select(0, near)
    rows = torch.cat([F.relu(pre), pre.new_zeros(1, nh)])
    border_values = patch_conv(rows, geometry['neighbours'], weight, bias, geometry['scatter'])
    # uniform windows: one value per class
    uniform_actv = F.relu(shared.weight[:, :num_classes].sum((2, 3)).t() + shared.bias)  # [classes, nh]
    table = torch.addmm(bias, uniform_actv, weight.sum((2, 3)).t())  # [classes, 2C]
    values = _RegionValues.apply(table, label_map.labels.view(n, 1, h * w), geometry['region_labels'],
                                 geometry['border_at'], border_values)
    return values.view(n, -1, h, w)


def label_modulation(spade, label_map):
    """[1 + gamma; beta] of SPADE module ``spade`` for the label map at the normalised input's size."""
    device = label_map.labels.device.type
    geometry = border_geometry(label_map, spade.mlp_gamma.weight.shape[-1]) if device == 'cpu' else None
    if geometry is None:
        return modulation_dense(spade, label_map)
    autocast = torch.is_autocast_enabled(device)
    with torch.autocast(device, enabled=False):
        params = modulation_uniform(spade, label_map, geometry)
    if autocast:  # the dtype the reference's convolutions give under autocast
        params = params.to(torch.get_autocast_dtype(device))
    return params
