"""pix2pixHD global generator as shipped with SPADE (``--netG pix2pixhd``), same parameter names."""
import torch.nn as nn

from ...option_table import AT_LEAST_0, AT_LEAST_1
from ..ops import get_nonspade_norm_layer
from .base import Generator


class ResnetBlock(nn.Module):
    def __init__(self, dim, norm_layer, activation, kernel_size=3):
        super().__init__()
        pw = (kernel_size - 1) // 2
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(pw),
            norm_layer(nn.Conv2d(dim, dim, kernel_size=kernel_size)),
            activation,
            nn.ReflectionPad2d(pw),
            norm_layer(nn.Conv2d(dim, dim, kernel_size=kernel_size)),
        )

    def forward(self, x):
        return x + self.conv_block(x)


class Pix2PixHDGenerator(Generator):
    """forward(semantics, z=None) -> image in [-1, 1]; z is ignored (no style input)."""

    METHOD = 'pix2pixHD'
    OPTIONS = {
        'resnet_n_downsample': (int, 4, 'number of downsamplings', AT_LEAST_0),
        'resnet_n_blocks': (int, 9, 'number of residual blocks', AT_LEAST_0),
        'resnet_kernel_size': (int, 3, 'kernel size of the residual blocks', AT_LEAST_1),
        'resnet_initial_kernel_size': (int, 7, 'kernel size of the first conv', AT_LEAST_1),
    }
    OPTION_GROUP = ('pix2pixHD', '--netG pix2pixhd: the global generator')
    OPTION_DEFAULTS = {'norm_G': 'instance'}
    TTUR_FIXED_BETAS = True

    def __init__(self, opt):
        super().__init__()
        norm_layer = get_nonspade_norm_layer(opt.norm_G_spec)
        activation = nn.ReLU(False)
        ngf, k0 = opt.ngf, opt.resnet_initial_kernel_size
        model = [nn.ReflectionPad2d(k0 // 2),
                 norm_layer(nn.Conv2d(opt.semantic_nc, ngf, kernel_size=k0, padding=0)),
                 activation]
        mult = 1
        for _ in range(opt.resnet_n_downsample):
            model += [norm_layer(nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1)),
                      activation]
            mult *= 2
        for _ in range(opt.resnet_n_blocks):
            model += [ResnetBlock(ngf * mult, norm_layer=norm_layer, activation=activation,
                                  kernel_size=opt.resnet_kernel_size)]
        nc_out = ngf * mult
        for _ in range(opt.resnet_n_downsample):
            nc_in, nc_out = int(ngf * mult), int(ngf * mult / 2)
            model += [norm_layer(nn.ConvTranspose2d(nc_in, nc_out, kernel_size=3, stride=2, padding=1,
                                                    output_padding=1)),
                      activation]
            mult = mult // 2
        model += [nn.ReflectionPad2d(3), nn.Conv2d(nc_out, opt.output_nc, kernel_size=7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*model)

    def forward(self, semantics, z=None):
        return self.model(semantics)
