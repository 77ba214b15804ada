"""SCGAN's routing network (models/ops/routing.py: ``SemanticVectorGenerator``) on a one-hot label
map: each decoder level ``labelDec{i}(cat([up, level]))`` (i >= 2) convolves the label level apart
from the upsampled feature (``decode_split``): lookups of weight columns for the one-hot map itself
(kernels/label_conv.py), a plain convolution for its halvings; no concatenated copy and no gradient
for the label channels. Without a position prior the pyramid's bilinear halvings are 2x2 means
(kernels/resize.py). Applies where the kernels run on the map's device; where the label channels
are not exactly one-hot (or need a gradient) the network's own forward runs.
"""
import functools

import torch.nn.functional as F

from ..models.dispatch import register
from ..models.ops.routing import SemanticVectorGenerator, label_pyramid
from ..models.ops.spectral import current_weight
from ..paths import fast_paths_enabled
from .conv3x3 import conv2d_same
from .label_conv import label_conv
from .label_map import generator_labels
from .resize import bilinear_halve


def decode_split(decoder, up, level_conv):
    """``decoder(cat([up, level]))`` for a labelDec{i} (i >= 2), the level being the one-hot map or a
    halving of it (non-negative, whatever the position prior did): the decoder's LeakyReLU leaves
    the level as it is, so its first convolution is a convolution of the activated feature plus
    ``level_conv(weight, bias)``, the level's part."""
    act, conv, rest = decoder[0], decoder[1], decoder[2:]
    weight, channels = current_weight(conv), up.shape[1]
    out = F.conv2d(act(up), weight[:, :channels], padding=conv.padding)
    return rest(out + level_conv(weight[:, channels:], conv.bias))


def halvings(semantics, opt, levels):
    """``label_pyramid(semantics, opt, levels)``, its bilinear halvings as 2x2 means where no
    position prior runs."""
    if opt.position:
        return label_pyramid(semantics, opt, levels)
    pyramid = [semantics]
    for _ in range(1, levels):
        pyramid.append(bilinear_halve(pyramid[-1]))
    return pyramid


def applies(net, context, semantics):
    return fast_paths_enabled(semantics)


def run(net, context, semantics):
    labels = generator_labels(semantics, net.opt)  # the forward context's, or checked here
    if labels is None:
        return net.forward(semantics)
    pyramid = halvings(semantics, net.opt, net.levels)
    feature = net.labelDec1(pyramid[-1])
    features = [feature]
    for i in range(1, net.levels):
        level = pyramid[-1 - i]
        up = F.interpolate(feature, size=level.shape[2:], mode='nearest')  # 2x nearest
        decoder = getattr(net, f'labelDec{i + 1}')
        if level is semantics:  # the one-hot map itself: its convolution as lookups
            feature = decode_split(decoder, up, functools.partial(label_conv, labels, rest=labels.extra))
        else:  # a halving of it
            feature = decode_split(decoder, up, functools.partial(conv2d_same, level))
        features.append(feature)
    image = F.hardtanh(net.toRGB(feature))
    return features, image


register(SemanticVectorGenerator, applies, run)
