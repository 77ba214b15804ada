"""SPADE's multiscale discriminator (models/discriminators/multiscale.py) with its label map and
images kept apart.

Average pooling works per channel, so each scale pools the label maps (once per group of images:
fake and real share theirs) and the images apart; the pooling's backward then runs over the image
channels alone, not over the label channels that need no gradient. The concatenation is made
where a scale's first convolution reads it. Where the full-resolution map is one-hot on a
fast-path device, that first layer (a 4x4 stride-2 convolution) looks the one-hot channels up
(kernels/label_conv.py) and convolves the other channels alone, so no concatenation is made at all.
"""
import torch

from ..models.discriminators.multiscale import MultiscaleDiscriminator, discriminator_input
from ..models.dispatch import register
from ..models.ops.spectral import current_weight
from .label_conv import label_conv
from .label_map import discriminator_labels


def first_layer(D, semantics, images, labels):
    """``D.model0`` on cat([semantics, images], 1): by lookups of the one-hot channels where
    ``labels`` is given, else on the concatenation."""
    if labels is None:
        return D.model0(discriminator_input(images, semantics))
    conv, act = D.model0
    rest = images if labels.extra is None else torch.cat([labels.extra, images], 1)
    return act(label_conv(labels, current_weight(conv), conv.bias, rest,
                          stride=conv.stride[0], padding=conv.padding[0]))


def scale_outputs(D, semantics, images, labels):
    """An NLayerDiscriminator's forward (its list of layer outputs) on the two parts of its input."""
    results = [first_layer(D, semantics, images, labels)]
    for submodel in list(D.children())[1:]:
        results.append(submodel(results[-1]))
    return results


def applies(net, context, semantics, images=None):
    """Where the label maps and images come apart (the model wrapper's call)."""
    return images is not None


def run(net, context, semantics, images):
    labels = discriminator_labels(images, semantics, net.opt)
    result = []
    for i, D in enumerate(net.children()):
        if i:
            semantics, images, labels = net.downsample(semantics), net.downsample(images), None
        result.append(scale_outputs(D, semantics, images, labels))
    return result


register(MultiscaleDiscriminator, applies, run)
