"""SPADE generator (Park et al., CVPR 2019) with the parameter names of NVlabs/SPADE."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from ..ops.spectral import spectral_norm

from ..base import BaseNetwork
from ..ops import SPADE

UPSAMPLING_LAYERS = {'normal': 5, 'more': 6, 'most': 7}


def latent_size(opt):
    """(sw, sh) of the first feature map: crop_size / 2**k, height from the aspect ratio."""
    sw = opt.crop_size // (2 ** UPSAMPLING_LAYERS[opt.num_upsampling_layers])
    sh = round(sw / opt.aspect_ratio)
    return sw, sh


class LatentInput:
    """The first feature map (``channels``, 16*ngf by default, at the latent size): from z through a
    linear layer (``--use_vae``) or from the label map downsampled to the latent size through a 3x3
    conv. Its layer is named ``fc`` in every original generator; owners register it as ``self.fc``."""

    @staticmethod
    def layer(opt, sw, sh, channels=None):
        channels = channels or 16 * opt.ngf
        if opt.use_vae:
            return nn.Linear(opt.z_dim, channels * sw * sh)
        return nn.Conv2d(opt.semantic_nc, channels, 3, padding=1)

    @staticmethod
    def features(fc, opt, seg, z, sw, sh, channels=None):
        if opt.use_vae:
            if z is None:
                z = torch.randn(seg.size(0), opt.z_dim, dtype=seg.dtype, device=seg.device)
            return fc(z).view(-1, channels or 16 * opt.ngf, sh, sw)
        return fc(F.interpolate(seg, size=(sh, sw)))


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
        if 'spectral' in opt.norm_G:
            self.conv_0 = spectral_norm(self.conv_0)
            self.conv_1 = spectral_norm(self.conv_1)
            if self.learned_shortcut:
                self.conv_s = spectral_norm(self.conv_s)
        spade_config = opt.norm_G.replace('spectral', '')
        self.norm_0 = SPADE(spade_config, fin, opt.semantic_nc)
        self.norm_1 = SPADE(spade_config, fmiddle, opt.semantic_nc)
        if self.learned_shortcut:
            self.norm_s = SPADE(spade_config, fin, opt.semantic_nc)

    def forward(self, x, seg):
        x_s = self.conv_s(self.norm_s(x, seg)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, seg), 2e-1))
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, seg), 2e-1))
        return x_s + dx


class SPADEGenerator(BaseNetwork):
    """forward(input_semantics, z=None) -> image in [-1, 1] (tanh)."""

    def __init__(self, opt):
        super().__init__()
        self.opt = opt
        nf = opt.ngf
        self.sw, self.sh = latent_size(opt)
        self.fc = LatentInput.layer(opt, self.sw, self.sh)
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

    def forward(self, input, z=None):
        seg = input
        x = LatentInput.features(self.fc, self.opt, seg, z, self.sw, self.sh)
        x = self.head_0(x, seg)
        x = self.up(x)
        x = self.G_middle_0(x, seg)
        if self.opt.num_upsampling_layers in ('more', 'most'):
            x = self.up(x)
        x = self.G_middle_1(x, seg)
        for block in (self.up_0, self.up_1, self.up_2, self.up_3):
            x = self.up(x)
            x = block(x, seg)
        if self.opt.num_upsampling_layers == 'most':
            x = self.up(x)
            x = self.up_4(x, seg)
        x = self.conv_img(F.leaky_relu(x, 2e-1))
        return torch.tanh(x)
