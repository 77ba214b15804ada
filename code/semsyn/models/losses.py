"""Losses of SPADE-family training: GAN (hinge/ls/original/w), feature matching, VGG, KLD."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .vgg import VGG19Features


class GANLoss(nn.Module):
    """SPADE's GANLoss. `input` is a score map or a list of them (one per discriminator scale or FPSE
    prediction map); the loss is averaged over the list."""

    def __init__(self, gan_mode, target_real_label=1.0, target_fake_label=0.0):
        super().__init__()
        if gan_mode not in ('ls', 'original', 'w', 'hinge'):
            raise ValueError(f'Unexpected gan_mode {gan_mode}')
        self.gan_mode = gan_mode
        self.real_label = target_real_label
        self.fake_label = target_fake_label

    def _target(self, input, target_is_real):
        return torch.full_like(input, self.real_label if target_is_real else self.fake_label)

    def loss(self, input, target_is_real, for_discriminator=True):
        if self.gan_mode == 'original':
            return F.binary_cross_entropy_with_logits(input, self._target(input, target_is_real))
        if self.gan_mode == 'ls':
            return F.mse_loss(input, self._target(input, target_is_real))
        if self.gan_mode == 'hinge':
            if for_discriminator:
                if target_is_real:
                    return -torch.mean(torch.clamp(input - 1, max=0))
                return -torch.mean(torch.clamp(-input - 1, max=0))
            if not target_is_real:
                raise ValueError("The generator's hinge loss must be aiming for real")
            return -torch.mean(input)
        # wgan
        return -input.mean() if target_is_real else input.mean()

    def forward(self, input, target_is_real, for_discriminator=True):
        if not isinstance(input, list):
            return self.loss(input, target_is_real, for_discriminator)
        return sum(self.loss(p, target_is_real, for_discriminator) for p in input) / len(input)


def feature_matching_loss(groups_fake, groups_real, lambda_feat):
    """L1 between discriminator features of fake and (detached) real, each weighted
    lambda_feat / number of groups: SPADE's GAN_Feat loss with a group per discriminator (its
    intermediate layers), CC-FPSE's with a group per FPSE feature."""
    terms = [F.l1_loss(f, r.detach()) for fg, rg in zip(groups_fake, groups_real) for f, r in zip(fg, rg)]
    return torch.stack(terms).sum() * (lambda_feat / len(groups_fake))


class VGGLoss(nn.Module):
    """Perceptual loss: weighted L1 between VGG19 relu1_1..relu5_1 features (SPADE's weights)."""

    weights = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)

    def __init__(self, weights_path=None, state_dict=None, missing_hint=', or train with --no_vgg_loss'):
        super().__init__()
        self.vgg = VGG19Features(weights_path, state_dict=state_dict, missing_hint=missing_hint)

    def forward(self, x, y):
        x_vgg, y_vgg = self.vgg(x), self.vgg(y)
        loss = 0
        for w, xf, yf in zip(self.weights, x_vgg, y_vgg):
            loss = loss + w * F.l1_loss(xf, yf.detach())
        return loss


def image_reconstruction_loss(kind, image, target, vgg=None):
    """SCGAN's --rw_loss between an image and the real one: l1, l2 (mean squared) or vgg (VGGLoss)."""
    image, target = image.float(), target.float()
    if kind == 'l1':
        return F.l1_loss(image, target)
    if kind == 'l2':
        return F.mse_loss(image, target)
    if kind == 'vgg':
        return vgg(image, target).float()
    raise ValueError(f"reconstruction loss must be l1, l2 or vgg, got {kind!r}")


def kld_loss(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, 1)), summed as in SPADE."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
