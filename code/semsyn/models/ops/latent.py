"""The first feature map of every generator, the layer every original names ``fc``: from the style
code z through a linear layer (--use_vae), or from the label map downsampled to the latent size
through a 3x3 convolution. The two layer classes keep the plain ``fc.weight``/``fc.bias`` keys."""
import torch
import torch.nn as nn

from ..dispatch import Dispatched
from .resize import nearest_resize

UPSAMPLING_LAYERS = {'normal': 5, 'more': 6, 'most': 7}


def latent_size(opt):
    """(sw, sh) of the first feature map: crop_size / 2**k, height from the aspect ratio."""
    sw = opt.crop_size // (2 ** UPSAMPLING_LAYERS[opt.num_upsampling_layers])
    sh = round(sw / opt.aspect_ratio)
    return sw, sh


class LatentLinear(nn.Linear):
    """z [B, z_dim] -> [B, channels, sh, sw]; z drawn from N(0, 1) when not given."""

    def __init__(self, z_dim, channels, sw, sh):
        super().__init__(z_dim, channels * sw * sh)
        self.shape = (channels, sh, sw)

    def forward(self, semantics, z=None):
        if z is None:
            z = torch.randn(semantics.size(0), self.in_features, dtype=semantics.dtype, device=semantics.device)
        return super().forward(z).view(-1, *self.shape)


class LatentConv2d(Dispatched, nn.Conv2d):
    """The label map, nearest-downsampled to (sh, sw), through a 3x3 convolution."""

    def __init__(self, semantic_nc, channels, sw, sh):
        super().__init__(semantic_nc, channels, 3, padding=1)
        self.size = (sh, sw)

    def forward(self, semantics, z=None):
        return super().forward(nearest_resize(semantics, self.size))


def latent_input(opt, channels):
    """The ``fc`` layer of a generator whose first feature map has ``channels`` channels."""
    sw, sh = latent_size(opt)
    if opt.use_vae:
        return LatentLinear(opt.z_dim, channels, sw, sh)
    return LatentConv2d(opt.semantic_nc, channels, sw, sh)
