"""CC-FPSE's generator (models/generators/ccfpse.py) on the CPU.

- ``DepthsepCCBlock``, as one fusion: the first layers of its four kernel predictors and of the
  shortcut's SPADE all read the same conditioning map cat([resized label map, label feature]), so
  they run as one convolution (its one-hot channels as lookups, label_conv.py, where the forward
  context's label map is one-hot), then split; the predictors' last layers run as
  'same' convolutions (conv3x3.py), the conditional convolutions keep no unfolded copy
  (depthwise.py), and the first one, where its kernels' convolution runs as Winograd, recomputes
  its kernels in backward instead of storing them.
- ``DepthConv`` alone: the per-pixel depthwise convolution without the unfolded copy.
- ``LabelEncoding`` (``labelenc1``): on the one-hot generator input, its convolution by lookups.
"""
import torch
import torch.nn.functional as F

from ..models.dispatch import register
from ..models.generators.ccfpse import DepthConv, DepthsepCCBlock, LabelEncoding
from ..models.ops.spectral import current_weight
from ..paths import fast_paths_enabled
from .conv3x3 import conv2d_same
from .depthwise import pixel_depthwise_conv, predicted_depthwise_conv
from .label_conv import label_conv
from .label_map import context_labels
from .modulation import modulate
from .resize import nearest_resize
from .spade_fast import modulation_from_hidden
from .winograd import winograd_pays


def depthwise_from_hidden(x, hidden, last, recompute=False):
    """DepthConv of x with the kernels ``last(hidden)`` (``last``: the predictor's final convolution).
    Where the kernels' convolution runs as Winograd it goes through predicted_depthwise_conv, which
    with ``recompute`` does not store the kernels for backward but recomputes them from ``hidden``,
    else keeps them; on smaller maps ``recompute`` keeps them too (there they are small and their
    direct convolution costs several times the Winograd one's products)."""
    if torch.is_grad_enabled():
        winograd = winograd_pays(hidden, last.weight)
        if recompute or winograd:
            return predicted_depthwise_conv(x, hidden, last.weight, last.bias, keep=not (recompute and winograd))
    return pixel_depthwise_conv(x, conv2d_same(hidden, last.weight, last.bias))


def fused_first_layers(convs, semantics, label_feature, labels):
    """relu(conv(cond)) of every conv in ``convs`` (3x3, all reading cond = cat([semantics resized to
    label_feature's size, label_feature])) as one convolution, split per conv; with ``labels``
    (a LabelMap) the one-hot channels by lookups."""
    weight = torch.cat([c.weight for c in convs])
    bias = torch.cat([c.bias for c in convs])
    size = label_feature.shape[2:]
    if labels is not None:
        at = labels.at(size)
        rest = label_feature if at.extra is None else torch.cat([at.extra, label_feature], dim=1)
        out = label_conv(at, weight, bias, rest)
    else:
        cond = torch.cat([nearest_resize(semantics, size), label_feature], dim=1)
        out = conv2d_same(cond, weight, bias)
    return [p.contiguous() for p in F.relu(out).split([c.weight.shape[0] for c in convs], dim=1)]


def _gate(hidden, predictor):
    return torch.sigmoid(conv2d_same(hidden, predictor[2].weight, predictor[2].bias))


def _spade_from_hidden(spade, x, actv):
    """SPADE's norm of x with ``actv``, its shared layer's output, computed by the caller."""
    return modulate(spade.param_free_norm(x), modulation_from_hidden(spade, actv))


def block_applies(block, context, x, semantics, label_feature):
    return fast_paths_enabled(x)


def run_block(block, context, x, semantics, label_feature):
    first = [block.gen_weights1[0], block.gen_weights2[0], block.gen_se_weights1[0], block.gen_se_weights2[0]]
    if block.learned_shortcut:
        first.append(block.norm_s.mlp_shared[0])
    hidden = fused_first_layers(first, semantics, label_feature, context_labels(context, semantics))
    x_s = block.conv_s(_spade_from_hidden(block.norm_s, x, hidden[4])) if block.learned_shortcut else x
    dx = depthwise_from_hidden(block.norm_1(x), hidden[0], block.gen_weights1[2], recompute=True)
    dx = block.actvn(block.conv_1(dx) * _gate(hidden[2], block.gen_se_weights1))
    dx = depthwise_from_hidden(block.norm_2(dx), hidden[1], block.gen_weights2[2])
    dx = block.actvn(block.conv_3(dx) * _gate(hidden[3], block.gen_se_weights2))
    return x_s + dx


def depth_conv_applies(conv, context, x, conv_weights):
    return fast_paths_enabled(x) and conv.kw == 3 and conv.stride == 1 and conv.unfold.padding == 1


def run_depth_conv(conv, context, x, conv_weights):
    return pixel_depthwise_conv(x, conv_weights)


def label_encoding_applies(level, context, semantics):
    return fast_paths_enabled(semantics) and context_labels(context, semantics) is not None


def run_label_encoding(level, context, semantics):
    labels = context_labels(context, semantics)
    norm_conv, act = level
    conv, norm = (norm_conv[0], norm_conv[1]) if isinstance(norm_conv, torch.nn.Sequential) else (norm_conv, None)
    out = label_conv(labels, current_weight(conv), conv.bias, labels.extra,
                     stride=conv.stride[0], padding=conv.padding[0])
    return act(norm(out) if norm is not None else out)


register(DepthsepCCBlock, block_applies, run_block)
register(DepthConv, depth_conv_applies, run_depth_conv)
register(LabelEncoding, label_encoding_applies, run_label_encoding)
