"""OASIS's generator (Schönfeld, Sushko et al., ICLR 2021; boschresearch/OASIS models/generator.py):
six SPADE residual blocks from a 3x3 conv of the downsampled label map, with 3D noise: one z per
image, broadcast over the map and concatenated in front of the one-hot labels, conditioning the
first conv and every SPADE.

Unlike the original, a ``z`` passed in is used (fixed noise), and ``z`` may also be a noise map
[B, z_dim, H, W] (per-class or per-region noise: change one region's style, keep the rest)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ...errors import UserError
from ...option_table import AT_LEAST_1
from ..ema import EMARule
from ..norms_oasis import SPADE, get_spectral_norm
from .base import Generator


class ResnetBlock_with_SPADE(nn.Module):  # noqa: N801 (the original's name)
    def __init__(self, fin, fout, opt):
        super().__init__()
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        sp_norm = get_spectral_norm(opt)
        self.conv_0 = sp_norm(nn.Conv2d(fin, fmiddle, kernel_size=3, padding=1))
        self.conv_1 = sp_norm(nn.Conv2d(fmiddle, fout, kernel_size=3, padding=1))
        if self.learned_shortcut:
            self.conv_s = sp_norm(nn.Conv2d(fin, fout, kernel_size=1, bias=False))
        cond_nc = opt.semantic_nc + (0 if opt.no_3dnoise else opt.z_dim)
        self.norm_0 = SPADE(opt, fin, cond_nc)
        self.norm_1 = SPADE(opt, fmiddle, cond_nc)
        if self.learned_shortcut:
            self.norm_s = SPADE(opt, fin, cond_nc)
        self.activ = nn.LeakyReLU(0.2, inplace=False)

    def forward(self, x, seg):
        x_s = self.conv_s(self.norm_s(x, seg)) if self.learned_shortcut else x
        dx = self.conv_0(self.activ(self.norm_0(x, seg)))
        dx = self.conv_1(self.activ(self.norm_1(dx, seg)))
        return x_s + dx


class OASISGenerator(Generator):
    METHOD = 'OASIS, with --netD oasis'
    OPTIONS = {
        'channels_G': (int, 64, 'generator width: its last block has this many channels, the first 16x',
                       AT_LEAST_1),
        'num_res_blocks': (int, 6, 'residual blocks of G and D; the original builds 6 only', AT_LEAST_1),
        'param_free_norm': (str, 'syncbatch', "the generator's norm before each SPADE modulation",
                            ['instance', 'syncbatch', 'batch']),
        'spade_ks': (int, 3, 'kernel size of the convolutions inside SPADE', AT_LEAST_1),
        'no_3dnoise': (bool, False, 'no noise channels in front of the label map (a deterministic generator)'),
        'no_spectral_norm': (bool, False, 'no spectral norm in G and D'),
    }
    OPTION_GROUP = ('OASIS', "--netG oasis --netD oasis, with the original's option names")
    # the original's training: Adam betas (0, 0.999), no learning-rate decay, the EMA generator
    # (EMA_decay 0.9999) with its batch-norm statistics recomputed; 3D noise of 64 channels
    # (its statistics pass: 51 batches); its discriminator, no feature matching, no VGG loss unless
    # --add_vgg_loss (derive_options), no instance maps
    OPTION_DEFAULTS = {'z_dim': 64, 'ema': True, 'ema_decay': 0.9999, 'beta1': 0.0, 'beta2': 0.999,
                       'niter_decay': 0, 'ema_bn_batches': 51, 'netD': 'oasis', 'no_ganFeat_loss': True,
                       'no_vgg_loss': True, 'no_instance': True}

    @staticmethod
    def semantic_nc(opt):
        """OASIS's count: the classes and the dontcare label 0 (no instance edges)."""
        return opt.label_nc + 1

    @staticmethod
    def derive_options(opt):
        """The original's VGG loss is off unless --add_vgg_loss; it has no instance maps."""
        opt.no_instance = True
        if opt.isTrain and getattr(opt, 'add_vgg_loss', False):
            opt.no_vgg_loss = False

    @classmethod
    def check_options(cls, opt):
        if opt.num_res_blocks != 6:
            raise UserError(f'--num_res_blocks {opt.num_res_blocks}: OASIS has 6 residual blocks')
        step = 2 ** (opt.num_res_blocks - 1)
        if opt.crop_size % step or round(opt.crop_size // step / opt.aspect_ratio) < 1:
            raise UserError(f'--crop_size {opt.crop_size}: --netG {opt.netG} halves the image '
                            f'{opt.num_res_blocks - 1} times; use a multiple of {step}, at least '
                            f'{step * max(1, round(opt.aspect_ratio))}')
    # utils.update_EMA: every state-dict entry averaged after the iteration; the statistics pass
    # in training mode
    ema_rule = EMARule(every_entry=True, after='D', statistics='running')

    def __init__(self, opt):
        super().__init__()
        if opt.num_res_blocks != 6:
            raise UserError(f'--num_res_blocks {opt.num_res_blocks}: OASIS has 6 residual blocks')
        self.opt = opt
        ch = opt.channels_G
        self.channels = [16 * ch, 16 * ch, 16 * ch, 8 * ch, 4 * ch, 2 * ch, 1 * ch]
        self.init_W, self.init_H = self.compute_latent_vector_size(opt)  # (h, w), as the original
        self.conv_img = nn.Conv2d(self.channels[-1], 3, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2)
        self.body = nn.ModuleList(ResnetBlock_with_SPADE(self.channels[i], self.channels[i + 1], opt)
                                  for i in range(len(self.channels) - 1))
        in_nc = opt.semantic_nc + (0 if opt.no_3dnoise else opt.z_dim)
        self.fc = nn.Conv2d(in_nc, 16 * ch, 3, padding=1)

    def noise_shape(self, semantics):
        return None if self.opt.no_3dnoise else (semantics.shape[0], self.opt.z_dim)

    @staticmethod
    def compute_latent_vector_size(opt):
        w = opt.crop_size // (2 ** (opt.num_res_blocks - 1))
        h = round(w / opt.aspect_ratio)
        return h, w

    def noise(self, seg, z=None):
        """``seg`` with the 3D noise in front: z [B, z_dim] broadcast, or a map [B, z_dim, H, W]."""
        b, _, h, w = seg.shape
        if z is None:
            z = torch.randn(b, self.opt.z_dim, dtype=torch.float32, device=seg.device)
        if z.dim() == 2:
            z = z.view(b, self.opt.z_dim, 1, 1).expand(b, self.opt.z_dim, h, w)
        elif z.shape[2:] != seg.shape[2:]:
            z = F.interpolate(z, size=(h, w), mode='nearest')
        return torch.cat((z.to(seg.dtype), seg), dim=1)

    def forward(self, input, z=None):  # noqa: A002 (the original's name)
        seg = input if self.opt.no_3dnoise else self.noise(input, z)
        x = F.interpolate(seg, size=(self.init_W, self.init_H))
        x = self.fc(x)
        for i in range(self.opt.num_res_blocks):
            x = self.body[i](x, seg)
            if i < self.opt.num_res_blocks - 1:
                x = self.up(x)
        x = self.conv_img(F.leaky_relu(x, 2e-1))
        return torch.tanh(x)


def region_noise(label_map, z_per_region):
    """A noise map [B, z_dim, H, W] from an integer map of regions [B, 1, H, W] (classes or any ids)
    and one z per region id: ``z_per_region`` [num_regions, z_dim] or [B, num_regions, z_dim]."""
    ids = label_map[:, 0].long()
    if z_per_region.dim() == 2:
        z_per_region = z_per_region.unsqueeze(0).expand(ids.shape[0], -1, -1)
    gathered = torch.gather(z_per_region, 1, ids.flatten(1).unsqueeze(-1).expand(-1, -1, z_per_region.shape[-1]))
    return gathered.transpose(1, 2).reshape(ids.shape[0], -1, *ids.shape[1:])
