"""SPADE generator (Park et al., CVPR 2019) with the parameter names of NVlabs/SPADE."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..dispatch import forward_context, label_channels
from ..ops import SPADE
from ..ops.latent import latent_input
from ..ops.spectral import spectral_norm
from .base import Generator


class SPADEResnetBlock(nn.Module):
    """Residual block: SPADE norm -> LeakyReLU -> conv, twice; learned shortcut when fin != fout."""

    def __init__(self, fin, fout, opt):
        super().__init__()
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        self.conv_0 = nn.Conv2d(fin, fmiddle, kernel_size=3, padding=1)
        self.conv_1 = nn.Conv2d(fmiddle, fout, kernel_size=3, padding=1)
        if self.learned_shortcut:
            self.conv_s = nn.Conv2d(fin, fout, kernel_size=1, bias=False)
        if opt.norm_G_spec.spectral:
            self.conv_0 = spectral_norm(self.conv_0)
            self.conv_1 = spectral_norm(self.conv_1)
            if self.learned_shortcut:
                self.conv_s = spectral_norm(self.conv_s)
        self.norm_0 = SPADE(opt.norm_G_spec, fin, opt.semantic_nc)
        self.norm_1 = SPADE(opt.norm_G_spec, fmiddle, opt.semantic_nc)
        if self.learned_shortcut:
            self.norm_s = SPADE(opt.norm_G_spec, fin, opt.semantic_nc)

    def forward(self, x, semantics):
        x_s = self.conv_s(self.norm_s(x, semantics)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, semantics), 2e-1))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, semantics), 2e-1))
        return x_s + dx


class SPADEGenerator(Generator):
    """forward(semantics, z=None) -> image in [-1, 1] (tanh)."""

    METHOD = 'SPADE'
    OPTION_DEFAULTS = {'norm_G': 'spectralspadesyncbatch3x3'}
    UPSAMPLING = ('normal', 'more', 'most')
    TTUR_FIXED_BETAS = True

    def __init__(self, opt):
        super().__init__()
        self.opt = opt
        nf = opt.ngf
        self.fc = latent_input(opt, 16 * nf)
        self.head_0 = SPADEResnetBlock(16 * nf, 16 * nf, opt)
        self.G_middle_0 = SPADEResnetBlock(16 * nf, 16 * nf, opt)
        self.G_middle_1 = SPADEResnetBlock(16 * nf, 16 * nf, opt)
        self.up_0 = SPADEResnetBlock(16 * nf, 8 * nf, opt)
        self.up_1 = SPADEResnetBlock(8 * nf, 4 * nf, opt)
        self.up_2 = SPADEResnetBlock(4 * nf, 2 * nf, opt)
        self.up_3 = SPADEResnetBlock(2 * nf, 1 * nf, opt)
        final_nc = nf
        if opt.num_upsampling_layers == 'most':
            self.up_4 = SPADEResnetBlock(1 * nf, nf // 2, opt)
            final_nc = nf // 2
        self.conv_img = nn.Conv2d(final_nc, 3, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2)

    def forward(self, semantics, z=None):
        with forward_context(semantics, label_channels(self.opt)):
            return self.synthesize(semantics, z)

    def synthesize(self, semantics, z=None):
        x = self.fc(semantics, z)
        x = self.head_0(x, semantics)
        x = self.up(x)
        x = self.G_middle_0(x, semantics)
        if self.opt.num_upsampling_layers in ('more', 'most'):
            x = self.up(x)
        x = self.G_middle_1(x, semantics)
        for block in (self.up_0, self.up_1, self.up_2, self.up_3):
            x = self.up(x)
            x = block(x, semantics)
        if self.opt.num_upsampling_layers == 'most':
            x = self.up(x)
            x = self.up_4(x, semantics)
        x = self.conv_img(F.leaky_relu(x, 2e-1))
        return torch.tanh(x)
