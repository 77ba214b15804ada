"""PatchGAN (n_layer) and multiscale discriminators of SPADE/pix2pixHD, same parameter names.

Their input is cat([one-hot label map, image], 1). With the fast paths switched on (ops/paths.py)
``inputs`` keeps the two apart (``LabelledInput``) and every scale pools them apart, so the pooling's
input gradient is taken over the image channels alone, not over the 150-odd label channels that
need none (on a GPU, where the other fast forms stay off, that backward was 7.6% of SPADE's bf16
step); the concatenation is made where a scale's first convolution reads it. Where the map is
one-hot on a fast-path device the full-resolution first layer, a 4x4 stride-2 convolution, instead
looks the one-hot channels up (ops/label_conv.py) and convolves the image channels alone, so that
concatenation is never made either.
"""
from typing import NamedTuple, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...kernels.label_conv import label_conv
from ...kernels.label_map import LabelMap, generator_labels
from ..ops import fast_paths_enabled, get_nonspade_norm_layer
from ..ops.spectral import current_weight
from .base import Discriminator, image_groups, maps_per_image


def discriminator_input_nc(opt):
    """Label channels (+ dontcare, + instance edges) + image channels."""
    return opt.semantic_nc + opt.output_nc


class LabelledInput(NamedTuple):
    """cat([semantics, images], 1), kept apart: ``semantics`` [N, L + E, H, W] (one map per group of
    images), ``images`` [k*N, C, H, W], ``labels`` the LabelMap of the semantics for all k*N images
    where they are one-hot and the lookups run on their device, else None."""
    semantics: torch.Tensor
    images: torch.Tensor
    labels: Optional[LabelMap]

    def joined(self):
        """The concatenation itself, each map repeated for its group's images."""
        return torch.cat([maps_per_image(self.images, self.semantics), self.images], dim=1)


def shared_label_map(images, semantics, opt):
    """The LabelMap of ``semantics`` for all of ``images``' groups on the fast paths, or None (reference
    path, label channels not one-hot, or a map that needs a gradient: kernels/label_map.py)."""
    labels = generator_labels(semantics, opt)
    return None if labels is None else labels.repeat(image_groups(images, semantics))


def discriminator_input(images, semantics, opt):
    """A LabelledInput with the fast paths switched on (any device), else the concatenation."""
    if not fast_paths_enabled():
        return LabelledInput(semantics, images, None).joined()
    return LabelledInput(semantics, images, shared_label_map(images, semantics, opt))


class NLayerDiscriminator(Discriminator):
    """forward(cat([semantics, image], 1) or its LabelledInput) -> [feat_1, ..., feat_n, prediction]
    (SPADE returns the prediction alone with --no_ganFeat_loss; the layers computed are the same)."""

    def __init__(self, opt):
        super().__init__()
        self.opt = opt
        kw, padw = 4, 2
        nf = opt.ndf
        norm_layer = get_nonspade_norm_layer(opt.norm_D_spec)
        sequence = [[nn.Conv2d(discriminator_input_nc(opt), nf, kernel_size=kw, stride=2, padding=padw),
                     nn.LeakyReLU(0.2, False)]]
        for n in range(1, opt.n_layers_D):
            nf_prev, nf = nf, min(nf * 2, 512)
            stride = 1 if n == opt.n_layers_D - 1 else 2
            sequence += [[norm_layer(nn.Conv2d(nf_prev, nf, kernel_size=kw, stride=stride, padding=padw)),
                          nn.LeakyReLU(0.2, False)]]
        sequence += [[nn.Conv2d(nf, 1, kernel_size=kw, stride=1, padding=padw)]]
        for n, layers in enumerate(sequence):
            self.add_module('model' + str(n), nn.Sequential(*layers))

    def forward(self, input):
        layers = list(self.children())
        if isinstance(input, LabelledInput):
            input, layers = self.labelled_first_layer(input), layers[1:]
            results = [input]
        else:
            results = []
        for submodel in layers:
            input = submodel(input)
            results.append(input)
        return results

    def labelled_first_layer(self, input):
        """model0 on a LabelledInput: the one-hot channels by lookups, the others by a convolution
        (without a LabelMap: on the concatenation)."""
        if input.labels is None:
            return self.model0(input.joined())
        conv, act = self.model0
        rest = input.images if input.labels.extra is None else torch.cat([input.labels.extra, input.images], 1)
        return act(label_conv(input.labels, current_weight(conv), conv.bias, rest,
                              stride=conv.stride[0], padding=conv.padding[0]))

    def inputs(self, images, semantics):
        return (discriminator_input(images, semantics, self.opt),)

    def predictions_and_features(self, out):
        """One score map; one feature-matching group of every intermediate layer."""
        return [out[-1]], [out[:-1]]


class MultiscaleDiscriminator(Discriminator):
    """num_D PatchGANs on the input downsampled by 2 each time; returns a list over scales."""

    METHOD = 'pix2pixHD, SPADE'
    ORIGINAL_FIXED = {'netD_subarch': 'n_layer'}  # SPADE's multiscale discriminator of PatchGANs

    def __init__(self, opt):
        super().__init__()
        self.opt = opt
        for i in range(opt.num_D):
            self.add_module('discriminator_%d' % i, NLayerDiscriminator(opt))

    def inputs(self, images, semantics):
        return (discriminator_input(images, semantics, self.opt),)

    def predictions_and_features(self, out):
        """(score map per scale, feature-matching groups: one per scale, weighed 1/num_D)."""
        return [o[-1] for o in out], [o[:-1] for o in out]

    @staticmethod
    def downsample(input):
        if isinstance(input, LabelledInput):  # per channel: the maps once per group, the images, apart
            pool = MultiscaleDiscriminator.downsample
            return LabelledInput(pool(input.semantics), pool(input.images), None)
        return F.avg_pool2d(input, kernel_size=3, stride=2, padding=[1, 1], count_include_pad=False)

    def forward(self, input):
        result = []
        for i, D in enumerate(self.children()):
            if i:  # (the original also pools after the last scale, for nothing)
                input = self.downsample(input)
            result.append(D(input))
        return result
