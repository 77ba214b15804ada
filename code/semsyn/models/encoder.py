"""VAE style encoders of SPADE (``ConvEncoder``) and SCGAN (``SCGANConvEncoder``), same names.

As in SPADE and CC-FPSE, ``ConvEncoder``'s width comes from ``ngf`` and the output is 256-d
(``z_dim`` must be 256 with this encoder). SCGAN's is the same network with its width from
``nef`` (``ngf`` when ``nef <= 0``; SCGAN's default is -1) and ``z_dim`` outputs.
The input is resized to 256x256 when ``layer6`` exists (crop_size >= 256), as the original; for
smaller crops, where the original fails on a shape mismatch, it is resized to 128x128 so the
flattened feature is still 4x4.
"""
import torch.nn as nn
import torch.nn.functional as F

from .base import BaseNetwork
from .ops import get_nonspade_norm_layer

SPADE_ENCODER_OUT = 256


class ConvEncoder(BaseNetwork):
    """forward(image) -> (mu, logvar), each [B, 256]."""

    def __init__(self, opt):
        super().__init__()
        kw, pw = 3, 1
        ndf = self.width(opt)
        norm_layer = get_nonspade_norm_layer(opt.norm_E_spec)
        self.layer1 = norm_layer(nn.Conv2d(3, ndf, kw, stride=2, padding=pw))
        self.layer2 = norm_layer(nn.Conv2d(ndf * 1, ndf * 2, kw, stride=2, padding=pw))
        self.layer3 = norm_layer(nn.Conv2d(ndf * 2, ndf * 4, kw, stride=2, padding=pw))
        self.layer4 = norm_layer(nn.Conv2d(ndf * 4, ndf * 8, kw, stride=2, padding=pw))
        self.layer5 = norm_layer(nn.Conv2d(ndf * 8, ndf * 8, kw, stride=2, padding=pw))
        self.has_layer6 = opt.crop_size >= 256
        if self.has_layer6:
            self.layer6 = norm_layer(nn.Conv2d(ndf * 8, ndf * 8, kw, stride=2, padding=pw))
        self.so = s0 = 4
        self.fc_mu = nn.Linear(ndf * 8 * s0 * s0, self.out_features(opt))
        self.fc_var = nn.Linear(ndf * 8 * s0 * s0, self.out_features(opt))
        self.actvn = nn.LeakyReLU(0.2, False)
        self.input_size = 256 if self.has_layer6 else 128

    @staticmethod
    def width(opt):
        return opt.ngf

    @staticmethod
    def out_features(opt):
        return SPADE_ENCODER_OUT

    def forward(self, x):
        if x.size(2) != self.input_size or x.size(3) != self.input_size:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode='bilinear')
        x = self.layer1(x)
        x = self.layer2(self.actvn(x))
        x = self.layer3(self.actvn(x))
        x = self.layer4(self.actvn(x))
        x = self.layer5(self.actvn(x))
        if self.has_layer6:
            x = self.layer6(self.actvn(x))
        x = self.actvn(x)
        x = x.view(x.size(0), -1)
        return self.fc_mu(x), self.fc_var(x)


class SCGANConvEncoder(ConvEncoder):
    """SCGAN's encoder: forward(image) -> (mu, logvar), each [B, z_dim]; width nef (ngf if nef <= 0)."""

    @staticmethod
    def width(opt):
        return opt.nef if opt.nef > 0 else opt.ngf

    @staticmethod
    def out_features(opt):
        return opt.z_dim

