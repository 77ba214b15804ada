"""OASIS's SPADE (its models/norms.py): a parameter-free norm modulated by convolutions of the
label map (+ 3D noise). Differs from SPADE's own module: the hidden width is always 128, the kernel
size is ``spade_ks`` for all three convolutions, and the conditioning map is resized with legacy
'nearest' by the norm itself."""
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm

from ..errors import UserError


def get_spectral_norm(opt):
    """The original's wrapper for the convolutions that carry spectral norm."""
    if opt.no_spectral_norm:
        return lambda module: module
    return spectral_norm


class SPADE(nn.Module):
    def __init__(self, opt, norm_nc, label_nc):
        super().__init__()
        ks = opt.spade_ks
        if opt.param_free_norm == 'instance':
            self.first_norm = nn.InstanceNorm2d(norm_nc, affine=False)
        elif opt.param_free_norm in ('syncbatch', 'batch'):
            # in one process the synchronized norm computes exactly what BatchNorm2d does
            self.first_norm = nn.BatchNorm2d(norm_nc, affine=False)
        else:
            raise UserError(f'--param_free_norm {opt.param_free_norm!r}: expected instance, syncbatch or batch')
        nhidden = 128
        pw = ks // 2
        self.mlp_shared = nn.Sequential(nn.Conv2d(label_nc, nhidden, kernel_size=ks, padding=pw), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(nhidden, norm_nc, kernel_size=ks, padding=pw)
        self.mlp_beta = nn.Conv2d(nhidden, norm_nc, kernel_size=ks, padding=pw)

    def forward(self, x, segmap):
        normalized = self.first_norm(x)
        segmap = F.interpolate(segmap, size=x.size()[2:], mode='nearest')
        actv = self.mlp_shared(segmap)
        gamma = self.mlp_gamma(actv)
        beta = self.mlp_beta(actv)
        return normalized * (1 + gamma) + beta
