"""OASIS's U-Net segmentation discriminator (boschresearch/OASIS models/discriminator.py): the
image alone in, N+1 logits per pixel out (channel 0 = fake, channel k+1 = class k). Widths are
the original's fixed ones; every conv but the last carries spectral norm.

It trains with its own objective (models/losses_oasis.py): G's loss the class-balanced N+1
cross-entropy of D(fake) against the labels; D's the fake and real terms and LabelMix, one D
call each (fake, real, mixed: each a spectral-norm power iteration, as the original)."""
import torch
import torch.nn as nn

from ...errors import UserError
from ...option_table import AT_LEAST_0, AT_LEAST_1
from ..losses_oasis import labelmix, labelmix_loss, labelmix_mask, oasis_loss
from ..norms_oasis import get_spectral_norm
from .base import Discriminator


class residual_block_D(nn.Module):  # noqa: N801 (the original's name)
    def __init__(self, fin, fout, opt, up_or_down, first=False):
        super().__init__()
        self.up_or_down = up_or_down
        self.first = first
        self.learned_shortcut = fin != fout
        fmiddle = fout
        norm_layer = get_spectral_norm(opt)
        if first:
            self.conv1 = nn.Sequential(norm_layer(nn.Conv2d(fin, fmiddle, 3, 1, 1)))
        elif up_or_down > 0:
            self.conv1 = nn.Sequential(nn.LeakyReLU(0.2, False), nn.Upsample(scale_factor=2),
                                       norm_layer(nn.Conv2d(fin, fmiddle, 3, 1, 1)))
        else:
            self.conv1 = nn.Sequential(nn.LeakyReLU(0.2, False), norm_layer(nn.Conv2d(fin, fmiddle, 3, 1, 1)))
        self.conv2 = nn.Sequential(nn.LeakyReLU(0.2, False), norm_layer(nn.Conv2d(fmiddle, fout, 3, 1, 1)))
        if self.learned_shortcut:
            self.conv_s = norm_layer(nn.Conv2d(fin, fout, 1, 1, 0))
        if up_or_down > 0:
            self.sampling = nn.Upsample(scale_factor=2)
        elif up_or_down < 0:
            self.sampling = nn.AvgPool2d(2)
        else:
            self.sampling = nn.Sequential()

    def forward(self, x):
        x_s = self.shortcut(x)
        dx = self.conv2(self.conv1(x))
        if self.up_or_down < 0:
            dx = self.sampling(dx)
        return x_s + dx

    def shortcut(self, x):
        if self.first:  # the first block pools before its 1x1 conv, the others after it
            if self.up_or_down < 0:
                x = self.sampling(x)
            if self.learned_shortcut:
                x = self.conv_s(x)
            return x
        if self.up_or_down > 0:
            x = self.sampling(x)
        if self.learned_shortcut:
            x = self.conv_s(x)
        if self.up_or_down < 0:
            x = self.sampling(x)
        return x


class OASISDiscriminator(Discriminator):
    """forward(image) -> [B, semantic_nc + 1, H, W] logits (channel 0: fake)."""

    METHOD = 'OASIS'
    TRAIN_OPTIONS = {
        'channels_D': (int, 64, "accepted for the original's command lines; as there, the discriminator's widths "
                                'are fixed and nothing reads it', AT_LEAST_1),
        'lambda_labelmix': (float, 10.0, 'weight of the LabelMix consistency loss of D', AT_LEAST_0),
        'no_labelmix': (bool, False, 'no LabelMix regularisation'),
        'no_balancing_inloss': (bool, False, 'no class-balancing weights in the N+1 cross-entropy of real pixels'),
        'add_vgg_loss': (bool, False, 'add the VGG perceptual loss to G (off in the original by default)'),
    }
    OPTION_GROUP = ('OASIS', "--netG oasis --netD oasis, with the original's option names")

    @staticmethod
    def check_options(opt):
        """Its encoder halves the image once per block and its decoder concatenates each level back:
        width and height must be multiples of 2 ** num_res_blocks."""
        step = 2 ** opt.num_res_blocks
        height = round(opt.crop_size / opt.aspect_ratio)
        if opt.crop_size % step or height % step:
            raise UserError(f'--crop_size {opt.crop_size}: --netD oasis halves the image {opt.num_res_blocks} '
                            f'times and joins each level back; use a width and height ({opt.crop_size}x{height}) '
                            f'that are multiples of {step}')

    def __init__(self, opt):
        super().__init__()
        if opt.num_res_blocks != 6:
            raise UserError(f'--num_res_blocks {opt.num_res_blocks}: OASIS has 6 residual blocks')
        output_channel = opt.semantic_nc + 1
        self.channels = [3, 128, 128, 256, 256, 512, 512]
        self.body_up = nn.ModuleList()
        self.body_down = nn.ModuleList()
        for i in range(opt.num_res_blocks):
            self.body_down.append(residual_block_D(self.channels[i], self.channels[i + 1], opt, -1, first=(i == 0)))
        self.body_up.append(residual_block_D(self.channels[-1], self.channels[-2], opt, 1))
        for i in range(1, opt.num_res_blocks - 1):
            self.body_up.append(residual_block_D(2 * self.channels[-1 - i], self.channels[-2 - i], opt, 1))
        self.body_up.append(residual_block_D(2 * self.channels[1], 64, opt, 1))
        self.layer_up_last = nn.Conv2d(64, output_channel, 1, 1, 0)

    def forward(self, input):  # noqa: A002 (the original's name)
        x = input
        encoder_res = []
        for block in self.body_down:
            x = block(x)
            encoder_res.append(x)
        x = self.body_up[0](x)
        for i in range(1, len(self.body_down)):
            x = self.body_up[i](torch.cat((encoder_res[-i - 1], x), dim=1))
        return self.layer_up_last(x)

    feature_matching = False

    @staticmethod
    def score_channels(opt):
        return opt.semantic_nc + 1

    @staticmethod
    def inputs(images, semantics):
        return (images,)  # the labels enter through the loss only

    @staticmethod
    def predictions_and_features(out):
        return [out], []

    def generator_losses(self, d, fake, semantics, opt):
        return {'Generator': oasis_loss(d(fake).float(), semantics, True, not opt.no_balancing_inloss)}

    def discriminator_losses(self, d, d_last, fake, real, semantics, opt, draws):
        balancing = not opt.no_balancing_inloss
        real = real.to(fake.dtype)
        last_is_real = opt.no_labelmix
        output_fake = d(fake).float()
        output_real = (d_last if last_is_real else d)(real).float()
        losses = {'D_fake': oasis_loss(output_fake, semantics, False, balancing),
                  'D_real': oasis_loss(output_real, semantics, True, balancing)}
        if not opt.no_labelmix:
            mask = labelmix_mask(semantics, lambda: draws.coin(semantics.device))
            output_mixed = d_last(labelmix(mask, fake, real)).float()
            losses['LabelMix'] = opt.lambda_labelmix * labelmix_loss(mask, output_mixed, output_fake, output_real)
        return losses
