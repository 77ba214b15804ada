"""PatchGAN (n_layer) and multiscale discriminators of SPADE/pix2pixHD, same parameter names.

Their input is cat([one-hot label map, image], 1), as SPADE's ``discriminate`` builds it for fake
and real images. The multiscale discriminator takes that input, or the two tensors, whose
concatenation it then makes at the top of its forward; the model wrapper passes the two, so that an
accelerated implementation (kernels/patchgan.py) can keep them apart.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..ops import get_nonspade_norm_layer
from .base import Discriminator, maps_per_image


def discriminator_input_nc(opt):
    """Label channels (+ dontcare, + instance edges) + image channels."""
    return opt.semantic_nc + opt.output_nc


def discriminator_input(images, semantics):
    """cat([semantics, images], 1), each label map repeated for its group of images."""
    return torch.cat([maps_per_image(images, semantics), images], dim=1)


class NLayerDiscriminator(Discriminator):
    """forward(cat([semantics, image], 1)) -> [feat_1, ..., feat_n, prediction] (SPADE returns the
    prediction alone with --no_ganFeat_loss; the layers computed are the same)."""

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
        results = [input]
        for submodel in self.children():
            results.append(submodel(results[-1]))
        return results[1:]

    def inputs(self, images, semantics):
        return (discriminator_input(images, semantics),)

    def predictions_and_features(self, out):
        """One score map; one feature-matching group of every intermediate layer."""
        return [out[-1]], [out[:-1]]


class MultiscaleDiscriminator(Discriminator):
    """num_D PatchGANs on the input downsampled by 2 each time -> a list over scales.

    forward(input) as the original, input = cat([semantics, images], 1); or forward(semantics,
    images), ``semantics`` one label map per group of ``images`` (base.py)."""

    METHOD = 'pix2pixHD, SPADE'
    ORIGINAL_FIXED = {'netD_subarch': 'n_layer'}  # SPADE's multiscale discriminator of PatchGANs

    def __init__(self, opt):
        super().__init__()
        self.opt = opt
        for i in range(opt.num_D):
            self.add_module('discriminator_%d' % i, NLayerDiscriminator(opt))

    def inputs(self, images, semantics):
        return semantics, images

    def predictions_and_features(self, out):
        """(score map per scale, feature-matching groups: one per scale, weighed 1/num_D)."""
        return [o[-1] for o in out], [o[:-1] for o in out]

    @staticmethod
    def downsample(input):
        return F.avg_pool2d(input, kernel_size=3, stride=2, padding=[1, 1], count_include_pad=False)

    def forward(self, input, images=None):
        if images is not None:
            input = discriminator_input(images, input)
        result = []
        for i, D in enumerate(self.children()):
            if i:  # (the original also pools after the last scale, for nothing)
                input = self.downsample(input)
            result.append(D(input))
        return result
