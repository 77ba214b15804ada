"""PatchGAN (n_layer) and multiscale discriminators of SPADE/pix2pixHD, same parameter names."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..ops import get_nonspade_norm_layer
from .base import Discriminator


def discriminator_input_nc(opt):
    """Label channels (+ dontcare, + instance edges) + image channels."""
    return opt.semantic_nc + opt.output_nc


class NLayerDiscriminator(Discriminator):
    """forward(cat([semantics, image], 1)) -> [feat_1, ..., feat_n, prediction] (SPADE returns the
    prediction alone with --no_ganFeat_loss; the layers computed are the same)."""

    def __init__(self, opt):
        super().__init__()
        self.opt = opt
        kw, padw = 4, 2
        nf = opt.ndf
        norm_layer = get_nonspade_norm_layer(opt.norm_D)
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
        return (torch.cat([semantics, images], dim=1),)

    def predictions_and_features(self, out):
        """One score map; one feature-matching group of every intermediate layer."""
        return [out[-1]], [out[:-1]]


class MultiscaleDiscriminator(Discriminator):
    """num_D PatchGANs on the input downsampled by 2 each time; returns a list over scales."""

    def __init__(self, opt):
        super().__init__()
        self.opt = opt
        for i in range(opt.num_D):
            self.add_module('discriminator_%d' % i, NLayerDiscriminator(opt))

    def inputs(self, images, semantics):
        return (torch.cat([semantics, images], dim=1),)

    def predictions_and_features(self, out):
        """(score map per scale, feature-matching groups: one per scale, weighed 1/num_D)."""
        return [o[-1] for o in out], [o[:-1] for o in out]

    @staticmethod
    def downsample(input):
        return F.avg_pool2d(input, kernel_size=3, stride=2, padding=[1, 1], count_include_pad=False)

    def forward(self, input):
        result = []
        for D in self.children():
            result.append(D(input))
            input = self.downsample(input)
        return result
