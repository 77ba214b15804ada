"""The model wrapper: label maps to one-hot semantics, G/D/E wiring, losses, inference.

One ``SynthesisModel`` serves every generator: a new method adds a generator (and maybe a
discriminator) file; the wrapper's forward modes stay the same. The forward takes tensors only, so the
whole wrapper can run under DataParallel.
"""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..devices import unwrap
from ..errors import UserError
from . import create_network
from .ema import ema_update, recalibrate_batch_norm
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


def prepare_batch(data, opt, device):
    """Dataset batch -> (one-hot semantics, real image, integer label map) on the run's device."""
    label = data['label'].to(device, non_blocking=True)
    instance = data['instance'].to(device, non_blocking=True) if not opt.no_instance else None
    semantics = one_hot_semantics(label, instance, opt)
    real = data['image'].to(device, non_blocking=True)
    if opt.channels_last:
        semantics = semantics.contiguous(memory_format=torch.channels_last)
        real = real.contiguous(memory_format=torch.channels_last)
    return semantics, real, label


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

    AMP_DTYPES = {'none': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}

    def __init__(self, opt, vgg_state_dict=None):
        super().__init__()
        self.opt = opt
        self.amp_dtype = self.AMP_DTYPES[getattr(opt, 'amp', 'none')]
        if opt.use_vae and opt.netG != 'scg' and opt.z_dim != SPADE_ENCODER_OUT:
            raise UserError(f'--z_dim {opt.z_dim}: the SPADE encoder outputs {SPADE_ENCODER_OUT} features; '
                            f'use --z_dim {SPADE_ENCODER_OUT} with --use_vae')
        self.netG = create_network('G', opt)
        self.netD = create_network('D', opt) if opt.isTrain else None
        self.netE = create_network('E', opt) if opt.use_vae else None
        # the EMA generator (SCGAN's netA): a copy of G whose weights follow G's slowly
        self.netA = copy.deepcopy(self.netG).eval().requires_grad_(False) if opt.isTrain and opt.ema else None
        if opt.isTrain:
            self.criterionGAN = GANLoss(opt.gan_mode)
            routing_vgg = opt.netG == 'scg' and opt.rw_loss == 'vgg'
            self.criterionVGG = None if opt.no_vgg_loss and not routing_vgg else \
                VGGLoss(opt.vgg_weights, state_dict=vgg_state_dict)

    def train(self, mode=True):
        """netA is only ever evaluated: it stays in eval mode (recalibrate_ema handles its batch norms)."""
        super().train(mode)
        if self.netA is not None:
            self.netA.eval()
        return self

    def networks(self):
        """{'G': netG, 'D': netD, 'E': netE, 'A': netA} for the networks this run has (unwrapped)."""
        nets = (('G', self.netG), ('D', self.netD), ('E', self.netE), ('A', self.netA))
        return {k: unwrap(v) for k, v in nets if v is not None}

    @torch.no_grad()
    def update_ema(self):
        """netA <- decay * netA + (1 - decay) * netG for parameters; buffers (BatchNorm statistics,
        spectral-norm vectors) are copied from netG."""
        ema_update(self.netA, unwrap(self.netG), self.opt.ema_decay)

    def recalibrate_ema(self, batches):
        """Re-estimate the EMA generator's batch-norm statistics on (semantics, real image) batches
        (--ema_bn_batches). The encoder (--use_vae) runs in eval mode and the RNG is forked, so the
        training run continues exactly as without the calibration."""
        encoder = unwrap(self.netE) if self.netE is not None else None
        encoder_mode = encoder.training if encoder is not None else None

        def feed(net):
            for semantics, real in batches:
                with self.autocast(semantics.device.type):
                    self.generate_fake(semantics, real, direct=True, use_ema=True)

        devices = [self.netA_device().index or 0] if self.netA_device().type == 'cuda' else []
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            if encoder is not None:
                encoder.eval()
            try:
                return recalibrate_batch_norm(self.netA, feed)
            finally:
                if encoder is not None:
                    encoder.train(encoder_mode)

    def netA_device(self):
        return next(self.netA.parameters()).device

    def distribute(self, device):
        """For DistributedDataParallel: batch norms synchronise across processes, and G, D, E are
        wrapped each on its own. The G step calls D's module directly (D's gradients are not
        needed there) and the D step G's and E's (under no_grad), so every DDP forward is followed
        by exactly one backward that reaches all of its trainable parameters: no
        find_unused_parameters, no double reduction."""
        from ..distributed import convert_sync_batchnorm
        from torch.nn.parallel import DistributedDataParallel as DDP
        ids = [device.index] if device.type == 'cuda' else None
        for name in ('netG', 'netD', 'netE'):
            net = getattr(self, name)
            if net is not None:
                setattr(self, name, DDP(convert_sync_batchnorm(net, device), device_ids=ids))

    def autocast(self, device_type):
        return torch.autocast(device_type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None)

    def forward(self, input_semantics, real_image, mode):
        with self.autocast(input_semantics.device.type):
            if mode == 'generator':
                return self.compute_generator_loss(input_semantics, real_image)
            if mode == 'discriminator':
                return self.compute_discriminator_loss(input_semantics, real_image)
            if mode == 'inference':
                with torch.no_grad():
                    fake_image, _, _ = self.generate_fake(input_semantics, real_image, direct=True,
                                                          use_ema=self.netA is not None)
                return fake_image.float()
        raise ValueError(f'mode {mode!r} is invalid')

    # -- losses ------------------------------------------------------------------------------
    def compute_generator_loss(self, input_semantics, real_image):
        opt = self.opt
        losses = {}
        fake_image, kld, routing_image = self.generate_fake(input_semantics, real_image, compute_kld_loss=opt.use_vae)
        if kld is not None:
            losses['KLD'] = kld
        if routing_image is not None:  # named as SCGAN names it, e.g. W_Recon_l1
            losses[f'W_Recon_{opt.rw_loss}'] = \
                self.routing_reconstruction_loss(routing_image, real_image) * opt.lambda_w_recon
        (pred_fake, feat_fake), (_, feat_real) = self.discriminate(input_semantics, fake_image, real_image,
                                                                   direct=True)
        losses['GAN'] = self.criterionGAN(pred_fake, True, for_discriminator=False)
        if not opt.no_ganFeat_loss:
            losses['GAN_Feat'] = feature_matching_loss(feat_fake, feat_real, opt.lambda_feat)
        if self.criterionVGG is not None and not opt.no_vgg_loss:
            losses['VGG'] = self.criterionVGG(fake_image, real_image).float() * opt.lambda_vgg
        return losses, fake_image

    def compute_discriminator_loss(self, input_semantics, real_image):
        with torch.no_grad():
            fake_image, _, _ = self.generate_fake(input_semantics, real_image, direct=True)
        fake_image = fake_image.detach().requires_grad_()
        (pred_fake, _), (pred_real, _) = self.discriminate(input_semantics, fake_image, real_image)
        return {'D_Fake': self.criterionGAN(pred_fake, False, for_discriminator=True),
                'D_real': self.criterionGAN(pred_real, True, for_discriminator=True)}

    # -- networks ----------------------------------------------------------------------------
    def encode_z(self, real_image, direct=False):
        mu, logvar = (unwrap(self.netE) if direct else self.netE)(real_image)
        mu, logvar = mu.float(), logvar.float()
        return reparameterize(mu, logvar), mu, logvar

    def generate_fake(self, input_semantics, real_image, compute_kld_loss=False, direct=False, use_ema=False):
        """(fake image, KLD loss or None, SCGAN's routing-network image or None).

        direct: call the networks themselves, not their DDP wrappers (no gradient reduction)."""
        z, kld = None, None
        if self.opt.use_vae:
            z, mu, logvar = self.encode_z(real_image, direct)
            if compute_kld_loss:
                kld = kld_loss(mu, logvar) * self.opt.lambda_kld
        net = self.netA if use_ema else unwrap(self.netG) if direct else self.netG
        out = net(input_semantics, z=z)
        if isinstance(out, tuple):  # SCGAN: (image, routing-network image, routing weights)
            return out[0], kld, out[1]
        return out, kld, None

    def routing_reconstruction_loss(self, routing_image, real_image):
        """SCGAN's --rw_loss between the routing network's RGB image and the real image."""
        routing_image, real_image = routing_image.float(), real_image.float()
        if self.opt.rw_loss == 'l1':
            return F.l1_loss(routing_image, real_image)
        if self.opt.rw_loss == 'l2':
            return F.mse_loss(routing_image, real_image)
        return self.criterionVGG(routing_image, real_image).float()

    def discriminate(self, input_semantics, fake_image, real_image, direct=False):
        """((fake predictions, fake feature groups), (real predictions, real feature groups)), float32.

        Fake and real go through D in one batch so batch-dependent norms see both."""
        core = unwrap(self.netD)
        net = core if direct else self.netD
        images = torch.cat([fake_image, real_image.to(fake_image.dtype)], dim=0)
        semantics = torch.cat([input_semantics, input_semantics], dim=0).to(fake_image.dtype)
        if core.takes_segmap:
            out = net(images, semantics)
        else:
            out = net(torch.cat([semantics, images], dim=1))
        preds, groups = core.predictions_and_features(out)
        preds, groups = [p.float() for p in preds], [[f.float() for f in g] for g in groups]
        return split_halves(preds, groups, 0), split_halves(preds, groups, 1)


def split_halves(preds, groups, half):
    """The fake (half 0) or real (half 1) part of D outputs computed on the [fake; real] batch."""
    def take(t):
        n = t.size(0) // 2
        return t[:n] if half == 0 else t[n:]
    return [take(p) for p in preds], [[take(f) for f in g] for g in groups]

