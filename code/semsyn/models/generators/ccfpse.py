"""CC-FPSE generator (Liu et al., NeurIPS 2019, xh-liu/CC-FPSE ``CondConvGenerator``), same names.

A label-encoding pyramid (stride-2 levels down to the latent size, one more level with ``more``
upsampling) with an FPN top-down path gives a semantic feature per scale. Each residual block
predicts, from cat([nearest-resized one-hot map, that feature]), per-pixel 3x3 depthwise kernels
and sigmoid channel gates for its two conditional convolutions.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ...norm_spec import NormSpec
from ..dispatch import Dispatched, forward_context, label_channels
from ..ops import SPADE, get_nonspade_norm_layer
from ..ops.latent import latent_input
from ..ops.spectral import spectral_norm
from .base import Generator

# the blocks' shortcut norm, whatever --norm_G says (as the original)
SHORTCUT_NORM = NormSpec(spectral=False, kind='spade', param_free='syncbatch', kernel_size=3, text='spadesyncbatch3x3')

PREDICTOR_HIDDEN = 128  # hard-coded width of the kernel and gate predictors in the original


def batch_norm(channels):
    """BatchNorm2d; converted to SyncBatchNorm for distributed training (the original's --mpdist)."""
    return nn.BatchNorm2d(channels, affine=True)


class DepthConv(Dispatched):
    """Per-pixel depthwise 3x3 conv: every channel and pixel has its own kernel, ``conv_weights``
    [N, C*9, H, W] (predicted from the conditioning map), applied to the unfolded input.

    ``norm_layer`` is built by the original but never used; it is kept so checkpoints load."""

    def __init__(self, fmiddle, kw=3, padding=1, stride=1):
        super().__init__()
        self.kw, self.stride = kw, stride
        self.unfold = nn.Unfold(kernel_size=(kw, kw), dilation=1, padding=padding, stride=stride)
        self.norm_layer = batch_norm(fmiddle).requires_grad_(False)  # unused: no gradient, none for DDP

    def forward(self, x, conv_weights):
        N, C, H, W = x.size()
        # reshape, not the original's view: predicted kernels in channels_last order are not viewable
        conv_weights = conv_weights.reshape(N * C, self.kw * self.kw, H // self.stride, W // self.stride)
        x = self.unfold(x).view(N * C, self.kw * self.kw, H // self.stride, W // self.stride)
        return torch.mul(conv_weights, x).sum(dim=1).view(N, C, H // self.stride, W // self.stride)


def kernel_predictor(cond_nc, out_nc, gate=False):
    layers = [nn.Conv2d(cond_nc, PREDICTOR_HIDDEN, kernel_size=3, padding=1), nn.ReLU(inplace=True),
              nn.Conv2d(PREDICTOR_HIDDEN, out_nc, kernel_size=3, padding=1)]
    if gate:
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


class DepthsepCCBlock(Dispatched):
    """Residual block with predicted depthwise kernels:
    BN -> cond. depthwise conv -> 1x1 conv -> x gate -> LeakyReLU, twice; SPADE-normed 1x1 shortcut.
    Its conditioning map is cat([the label map nearest-resized to x, the label feature of x's scale]).

    ``norm_0`` is built by the original but never used; it is kept so checkpoints load."""

    def __init__(self, fin, fout, opt, cond_nc):
        super().__init__()
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        self.gen_weights1 = kernel_predictor(cond_nc, fin * 9)
        self.gen_weights2 = kernel_predictor(cond_nc, fmiddle * 9)
        self.gen_se_weights1 = kernel_predictor(cond_nc, fmiddle, gate=True)
        self.gen_se_weights2 = kernel_predictor(cond_nc, fout, gate=True)
        self.conv_0 = DepthConv(fin)
        self.norm_0 = batch_norm(fmiddle).requires_grad_(False)  # unused: no gradient, none for DDP
        self.conv_1 = nn.Conv2d(fin, fmiddle, kernel_size=1)
        self.norm_1 = batch_norm(fin)
        self.conv_2 = DepthConv(fmiddle)
        self.norm_2 = batch_norm(fmiddle)
        self.conv_3 = nn.Conv2d(fmiddle, fout, kernel_size=1)
        if self.learned_shortcut:
            self.conv_s = nn.Conv2d(fin, fout, kernel_size=1, bias=False)
            if opt.norm_G_spec.spectral:
                self.conv_s = spectral_norm(self.conv_s)
            self.norm_s = SPADE(SHORTCUT_NORM, fin, cond_nc)

    def forward(self, x, semantics, label_feature):
        segmap = torch.cat([F.interpolate(semantics, size=x.size()[2:], mode='nearest'), label_feature], dim=1)
        conv_weights1 = self.gen_weights1(segmap)
        conv_weights2 = self.gen_weights2(segmap)
        se_weights1 = self.gen_se_weights1(segmap)
        se_weights2 = self.gen_se_weights2(segmap)

        x_s = self.shortcut(x, segmap)

        dx = self.norm_1(x)
        dx = self.conv_0(dx, conv_weights1)
        dx = self.conv_1(dx)
        dx = torch.mul(dx, se_weights1)
        dx = self.actvn(dx)
        dx = self.norm_2(dx)
        dx = self.conv_2(dx, conv_weights2)
        dx = self.conv_3(dx)
        dx = torch.mul(dx, se_weights2)
        dx = self.actvn(dx)
        return x_s + dx

    def shortcut(self, x, segmap):
        return self.conv_s(self.norm_s(x, segmap)) if self.learned_shortcut else x

    @staticmethod
    def actvn(x):
        return F.leaky_relu(x, 2e-1)


class LabelEncoding(Dispatched, nn.Sequential):
    """The label encoder's first level: [norm](conv(label map)) -> LeakyReLU, on the generator's input."""


class CondConvGenerator(Generator):
    """forward(semantics, z=None) -> image in [-1, 1] (tanh)."""

    METHOD = 'CC-FPSE, with --netD fpse'
    OPTION_DEFAULTS = {'norm_G': 'spectralsync_batch'}
    UPSAMPLING = ('normal', 'more')
    TTUR_FIXED_BETAS = True

    def __init__(self, opt):
        super().__init__()
        self.opt = opt
        nf = opt.ngf
        self.more = opt.num_upsampling_layers == 'more'
        if opt.num_upsampling_layers == 'most':
            raise ValueError("CC-FPSE's generator supports num_upsampling_layers normal and more")
        self.fc = latent_input(opt, 16 * nf)

        norm_layer = get_nonspade_norm_layer(opt.norm_G_spec)
        levels = 7 if self.more else 6

        def level(cin, cout, ks, stride):
            return nn.Sequential(norm_layer(nn.Conv2d(cin, cout, ks, stride=stride, padding=ks // 2)),
                                 nn.LeakyReLU(0.2, True))

        # bottom-up label encoder: full resolution, then stride-2 levels down to the latent size
        self.add_module('labelenc1', LabelEncoding(*level(opt.semantic_nc, nf, 3, 1)))
        for i in range(2, levels + 1):
            self.add_module(f'labelenc{i}', level(nf, nf, 3, 2))
        # top-down path: 1x1 laterals, 3x3 smoothing
        for i in range(1, levels):
            self.add_module(f'labellat{i}', level(nf, nf, 1, 1))
        for i in range(1, levels):
            self.add_module(f'labeldec{i}', level(nf, nf, 3, 1))
        self.levels = levels

        cond_nc = opt.semantic_nc + nf
        self.head_0 = DepthsepCCBlock(16 * nf, 16 * nf, opt, cond_nc)
        self.G_middle_0 = DepthsepCCBlock(16 * nf, 16 * nf, opt, cond_nc)
        self.G_middle_1 = DepthsepCCBlock(16 * nf, 16 * nf, opt, cond_nc)
        self.up_0 = DepthsepCCBlock(16 * nf, 8 * nf, opt, cond_nc)
        self.up_1 = DepthsepCCBlock(8 * nf, 4 * nf, opt, cond_nc)
        self.up_2 = DepthsepCCBlock(4 * nf, 2 * nf, opt, cond_nc)
        self.up_3 = DepthsepCCBlock(2 * nf, 1 * nf, opt, cond_nc)
        self.conv_img = nn.Conv2d(nf, 3, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2)

    def label_pyramid(self, semantics):
        """Semantic features from coarse (latent size) to full resolution."""
        encoded = [self.labelenc1(semantics)]
        for i in range(2, self.levels + 1):
            encoded.append(getattr(self, f'labelenc{i}')(encoded[-1]))
        features = [encoded[-1]]
        for i in range(1, self.levels):
            lateral = getattr(self, f'labellat{i}')(encoded[-1 - i])
            features.append(getattr(self, f'labeldec{i}')(self.up(features[-1]) + lateral))
        return features

    def forward(self, semantics, z=None):
        # the layers of this forward share what they derive from the label map (one-hot channels:
        # all but the instance edges)
        with forward_context(semantics, label_channels(self.opt)):
            x = self.fc(semantics, z)
            feats = self.label_pyramid(semantics)
            x = self.head_0(x, semantics, feats[0])
            x = self.up(x)
            x = self.G_middle_0(x, semantics, feats[1])
            k = 1
            if self.more:
                x = self.up(x)
                k = 2
            x = self.G_middle_1(x, semantics, feats[k])
            for block in (self.up_0, self.up_1, self.up_2, self.up_3):
                x = self.up(x)
                k += 1
                x = block(x, semantics, feats[k])
            x = self.conv_img(F.leaky_relu(x, 2e-1))
            return torch.tanh(x)
