"""The model wrapper: label maps to one-hot semantics, G/D/E wiring, losses, inference.

One ``SynthesisModel`` serves every generator: a new method adds a generator (and maybe a
discriminator) file; the wrapper's forward modes stay the same. The forward takes tensors only, so the
whole wrapper can run under DataParallel.
"""
import torch
import torch.nn as nn

from ..errors import UserError
from . import create_network
from .encoder import SPADE_ENCODER_OUT
from .losses import GANLoss, VGGLoss, feature_matching_loss, kld_loss


def one_hot_semantics(label, instance, opt):
    """[B,1,H,W] integer labels (+ instance ids) -> [B, semantic_nc, H, W] float input of the networks."""
    label = label.long()
    nc = opt.label_nc + (1 if opt.contain_dontcare_label else 0)
    if label.numel() and (int(label.min()) < 0 or int(label.max()) >= nc):
        raise UserError(f'label value {int(label.max()) if int(label.max()) >= nc else int(label.min())} is '
                        f'outside [0, {nc}) (--label_nc {opt.label_nc}, contain_dontcare_label '
                        f'{opt.contain_dontcare_label})')
    b, _, h, w = label.shape
    semantics = torch.zeros(b, nc, h, w, device=label.device).scatter_(1, label, 1.0)
    if not opt.no_instance:
        semantics = torch.cat((semantics, instance_edges(instance)), dim=1)
    return semantics


def instance_edges(t):
    """1 where a 4-neighbour has a different instance id (both sides marked), as SPADE's get_edges.

    Works on any integer dtype (SPADE#71/#107 broke on Byte/Bool arithmetic in newer torch)."""
    edge = torch.zeros(t.shape, dtype=torch.bool, device=t.device)
    dx = t[:, :, :, 1:] != t[:, :, :, :-1]
    dy = t[:, :, 1:, :] != t[:, :, :-1, :]
    edge[:, :, :, 1:] |= dx
    edge[:, :, :, :-1] |= dx
    edge[:, :, 1:, :] |= dy
    edge[:, :, :-1, :] |= dy
    return edge.float()


def reparameterize(mu, logvar):
    std = torch.exp(0.5 * logvar)
    return torch.randn_like(std) * std + mu


class SynthesisModel(nn.Module):
    """Holds netG, netD (training), netE (``--use_vae``) and the losses.

    forward(input_semantics, real_image, mode) with mode 'generator' -> (losses dict, fake image),
    'discriminator' -> losses dict, 'inference' -> fake image.
    """

    def __init__(self, opt, vgg_state_dict=None):
        super().__init__()
        self.opt = opt
        if opt.use_vae and opt.z_dim != SPADE_ENCODER_OUT:
            raise UserError(f'--z_dim {opt.z_dim}: the SPADE encoder outputs {SPADE_ENCODER_OUT} features; '
                            f'use --z_dim {SPADE_ENCODER_OUT} with --use_vae')
        self.netG = create_network('G', opt)
        self.netD = create_network('D', opt) if opt.isTrain else None
        self.netE = create_network('E', opt) if opt.use_vae else None
        if opt.isTrain:
            self.criterionGAN = GANLoss(opt.gan_mode)
            self.criterionVGG = None if opt.no_vgg_loss else VGGLoss(opt.vgg_weights, state_dict=vgg_state_dict)

    def networks(self):
        """{'G': netG, 'D': netD, 'E': netE} for the networks this run has."""
        return {k: v for k, v in (('G', self.netG), ('D', self.netD), ('E', self.netE)) if v is not None}

    def forward(self, input_semantics, real_image, mode):
        if mode == 'generator':
            return self.compute_generator_loss(input_semantics, real_image)
        if mode == 'discriminator':
            return self.compute_discriminator_loss(input_semantics, real_image)
        if mode == 'inference':
            with torch.no_grad():
                fake_image, _ = self.generate_fake(input_semantics, real_image)
            return fake_image
        raise ValueError(f'mode {mode!r} is invalid')

    # -- losses ------------------------------------------------------------------------------
    def compute_generator_loss(self, input_semantics, real_image):
        opt = self.opt
        losses = {}
        fake_image, kld = self.generate_fake(input_semantics, real_image, compute_kld_loss=opt.use_vae)
        if kld is not None:
            losses['KLD'] = kld
        (pred_fake, feat_fake), (_, feat_real) = self.discriminate(input_semantics, fake_image, real_image)
        losses['GAN'] = self.criterionGAN(pred_fake, True, for_discriminator=False)
        if not opt.no_ganFeat_loss:
            losses['GAN_Feat'] = feature_matching_loss(feat_fake, feat_real, opt.lambda_feat)
        if self.criterionVGG is not None:
            losses['VGG'] = self.criterionVGG(fake_image, real_image) * opt.lambda_vgg
        return losses, fake_image

    def compute_discriminator_loss(self, input_semantics, real_image):
        with torch.no_grad():
            fake_image, _ = self.generate_fake(input_semantics, real_image)
        fake_image = fake_image.detach().requires_grad_()
        (pred_fake, _), (pred_real, _) = self.discriminate(input_semantics, fake_image, real_image)
        return {'D_Fake': self.criterionGAN(pred_fake, False, for_discriminator=True),
                'D_real': self.criterionGAN(pred_real, True, for_discriminator=True)}

    # -- networks ----------------------------------------------------------------------------
    def encode_z(self, real_image):
        mu, logvar = self.netE(real_image)
        return reparameterize(mu, logvar), mu, logvar

    def generate_fake(self, input_semantics, real_image, compute_kld_loss=False):
        z, kld = None, None
        if self.opt.use_vae:
            z, mu, logvar = self.encode_z(real_image)
            if compute_kld_loss:
                kld = kld_loss(mu, logvar) * self.opt.lambda_kld
        return self.netG(input_semantics, z=z), kld

    def discriminate(self, input_semantics, fake_image, real_image):
        """((fake predictions, fake feature groups), (real predictions, real feature groups)).

        Fake and real go through D in one batch so batch-dependent norms see both."""
        images = torch.cat([fake_image, real_image], dim=0)
        semantics = torch.cat([input_semantics, input_semantics], dim=0)
        if self.netD.takes_segmap:
            out = self.netD(images, semantics)
        else:
            out = self.netD(torch.cat([semantics, images], dim=1))
        preds, groups = self.netD.predictions_and_features(out)
        return split_halves(preds, groups, 0), split_halves(preds, groups, 1)


def split_halves(preds, groups, half):
    """The fake (half 0) or real (half 1) part of D outputs computed on the [fake; real] batch."""
    def take(t):
        n = t.size(0) // 2
        return t[:n] if half == 0 else t[n:]
    return [take(p) for p in preds], [[take(f) for f in g] for g in groups]

