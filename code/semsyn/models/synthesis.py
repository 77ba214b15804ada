"""The model wrapper: label maps to one-hot semantics, G/D/E wiring, losses, inference.

One ``SynthesisModel`` serves every method and names none: what differs between methods (the
encoder a generator pairs with, what its forward returns, the losses it adds, how a discriminator
takes its inputs and what it returns) is declared by the network classes (generators/base.py,
discriminators/base.py). The forward takes tensors only, so the whole wrapper can run under
DataParallel.
"""
import copy
from argparse import Namespace
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor
from torch.nn.parallel import DistributedDataParallel

from ..devices import unwrap
from ..distributed import broadcast_state, convert_sync_batchnorm
from ..errors import UserError
from . import create_network
from .dispatch import label_channels
from .draws import TorchDraws
from .ema import ema_update, ema_update_every_entry, recalibrate_batch_norm, running_statistics_pass
from .losses import GANLoss, VGGLoss, feature_matching_loss, kld_loss


def one_hot_semantics(label: Tensor, instance: Optional[Tensor], opt: Namespace) -> Tensor:
    """[B,1,H,W] integer labels (+ instance ids) -> [B, semantic_nc, H, W] float input of the networks.

    Label values are checked where they are read (the datasets, the synthesis API), not here: a check
    on the device would cost two host synchronisations per batch."""
    label = label.long()
    nc = label_channels(opt)
    b, _, h, w = label.shape
    semantics = torch.zeros(b, nc, h, w, device=label.device).scatter_(1, label, 1.0)
    if not opt.no_instance:
        semantics = torch.cat((semantics, instance_edges(instance)), dim=1)
    return semantics


def prepare_batch(data: dict, opt: Namespace, device: torch.device) -> Tuple[Tensor, Optional[Tensor], Tensor]:
    """Dataset batch -> (one-hot semantics, real image or None for label maps alone, integer label map)
    on the run's device."""
    label = data['label'].to(device, non_blocking=True)
    instance = data['instance'].to(device, non_blocking=True) if not opt.no_instance else None
    semantics = one_hot_semantics(label, instance, opt)
    real = data['image'].to(device, non_blocking=True) if 'image' in data else None
    if opt.channels_last:
        semantics = semantics.contiguous(memory_format=torch.channels_last)
        real = real.contiguous(memory_format=torch.channels_last) if real is not None else None
    return semantics, real, label


def instance_edges(t: Tensor) -> Tensor:
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


def reparameterize(mu: Tensor, logvar: Tensor) -> Tensor:
    """z = mu + eps * exp(logvar / 2), eps ~ N(0, 1)."""
    std = torch.exp(0.5 * logvar)
    return torch.randn_like(std) * std + mu


def split_halves(preds, groups, half):
    """The fake (half 0) or real (half 1) part of D outputs computed on the [fake; real] batch."""
    def take(t):
        n = t.size(0) // 2
        return t[:n] if half == 0 else t[n:]
    return [take(p) for p in preds], [[take(f) for f in g] for g in groups]


class SynthesisModel(nn.Module):
    """Holds netG, netD (training), netE (``--use_vae``), netA (``--ema``) and the losses.

    forward(semantics, real_image, mode, z=None) with mode 'generator' -> (losses dict, fake image),
    'discriminator' -> losses dict, 'inference' -> fake image (with --use_vae from the style code z, or
    else from the encoded real image).

    ``unwrapped=True`` in the helpers below calls the networks themselves rather than their
    DistributedDataParallel wrappers: no gradient reduction is set up for that forward.
    """

    AMP_DTYPES = {'none': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}

    def __init__(self, opt: Namespace, vgg_state_dict: Optional[dict] = None):
        super().__init__()
        self.opt = opt
        self.amp_dtype = self.AMP_DTYPES[getattr(opt, 'amp', 'none')]
        self.draws = TorchDraws()  # the noise and coins the networks and losses take (a replay swaps it)
        self.netG = create_network('G', opt)
        self.netD = create_network('D', opt) if opt.isTrain else None
        self.netE = create_network('E', opt) if opt.use_vae else None
        if self.netE is not None and self.netE.out_features(opt) != opt.z_dim:
            raise UserError(f'--z_dim {opt.z_dim}: the style encoder of --netG {opt.netG} outputs '
                            f'{self.netE.out_features(opt)} features; use --z_dim {self.netE.out_features(opt)} '
                            f'with --use_vae')
        # the EMA generator: a copy of G whose weights follow G's slowly
        self.netA = copy.deepcopy(self.netG).eval().requires_grad_(False) if opt.isTrain and opt.ema else None
        if opt.isTrain:
            self.criterionGAN = GANLoss(opt.gan_mode)
            # what uses the VGG network, by the option that turns the use off
            switches = (['--no_vgg_loss'] if not opt.no_vgg_loss else []) + \
                [s for s in [self.generator.vgg_switch(opt)] if s]
            self.criterionVGG = VGGLoss(opt.vgg_weights, state_dict=vgg_state_dict,
                                        missing_hint=f", or train without it ({' and '.join(switches)})") \
                if switches else None

    @staticmethod
    def roles(opt: Namespace):
        """The networks a run with these options has: G, and D (training), E (--use_vae), A (--ema)."""
        yield 'G'
        if opt.isTrain:
            yield 'D'
        if opt.use_vae:
            yield 'E'
        if opt.isTrain and opt.ema:
            yield 'A'

    @property
    def generator(self):
        return unwrap(self.netG)

    @property
    def discriminator(self):
        return unwrap(self.netD)

    def train(self, mode: bool = True):
        """netA is only ever evaluated: it stays in eval mode (recalibrate_ema handles its batch norms)."""
        super().train(mode)
        if self.netA is not None:
            self.netA.eval()
        return self

    def networks(self) -> Dict[str, nn.Module]:
        """{'G': netG, 'D': netD, 'E': netE, 'A': netA} for the networks this run has (unwrapped)."""
        nets = (('G', self.netG), ('D', self.netD), ('E', self.netE), ('A', self.netA))
        return {k: unwrap(v) for k, v in nets if v is not None}

    @property
    def ema_rule(self):
        return self.generator.ema_rule

    @torch.no_grad()
    def update_ema(self):
        """netA <- decay * netA + (1 - decay) * netG for parameters; buffers (BatchNorm statistics,
        spectral-norm vectors) copied from netG, or averaged too where the generator's rule says so."""
        if self.ema_rule.every_entry:
            ema_update_every_entry(self.netA, self.generator, self.opt.ema_decay)
        else:
            ema_update(self.netA, self.generator, self.opt.ema_decay)

    def recalibrate_ema(self, batches) -> int:
        """Re-estimate the EMA generator's batch-norm statistics on (semantics, real image) batches
        (--ema_bn_batches). The encoder (--use_vae) runs in eval mode and the RNG is forked, so the
        training run continues exactly as without the calibration."""
        encoder = unwrap(self.netE) if self.netE is not None else None
        encoder_mode = encoder.training if encoder is not None else None

        def feed(net):
            for semantics, real in batches:
                with self.autocast(semantics.device.type):
                    self.generate_fake(semantics, real, unwrapped=True, use_ema=True)

        device = next(self.netA.parameters()).device
        with torch.random.fork_rng(devices=[device.index or 0] if device.type == 'cuda' else []), torch.no_grad():
            if encoder is not None:
                encoder.eval()
            try:
                if self.ema_rule.statistics == 'running':
                    return running_statistics_pass(self.netA, feed)
                return recalibrate_batch_norm(self.netA, feed)
            finally:
                if encoder is not None:
                    encoder.train(encoder_mode)

    def compile_networks(self):
        """torch.compile G, D and E in place (nn.Module.compile: parameter names and state-dict keys
        stay as they are; before ``distribute``). The EMA generator, only ever evaluated, stays eager."""
        for net in (self.netG, self.netD, self.netE):
            if net is not None:
                net.compile()

    def distribute(self, device: torch.device):
        """For DistributedDataParallel: batch norms synchronise across processes, and G, D, E are
        wrapped each on its own. The G step calls D's module directly (D's gradients are not
        needed there) and the D step G's and E's (under no_grad), so every DDP forward is followed
        by exactly one backward that reaches all of its trainable parameters: no
        find_unused_parameters, no double reduction."""
        ids = [device.index] if device.type == 'cuda' else None
        for name in ('netG', 'netD', 'netE'):
            net = getattr(self, name)
            if net is not None:
                setattr(self, name, DistributedDataParallel(convert_sync_batchnorm(net, device), device_ids=ids))
        if self.netA is not None:  # copied from G before DDP gave G rank 0's initial weights
            broadcast_state(self.netA)

    def autocast(self, device_type: str):
        return torch.autocast(device_type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None)

    def forward(self, semantics: Tensor, real_image: Optional[Tensor], mode: str, z: Optional[Tensor] = None):
        with self.autocast(semantics.device.type):
            if mode == 'generator':
                return self.compute_generator_loss(semantics, real_image)
            if mode == 'discriminator':
                return self.compute_discriminator_loss(semantics, real_image)
            if mode == 'inference':
                with torch.no_grad():
                    fake_image, _, _ = self.generate_fake(semantics, real_image, unwrapped=True,
                                                          use_ema=self.netA is not None, z=z)
                return fake_image.float()
        raise ValueError(f'mode {mode!r} is invalid')

    # -- losses ------------------------------------------------------------------------------
    def compute_generator_loss(self, semantics: Tensor, real_image: Tensor) -> Tuple[Dict[str, Tensor], Tensor]:
        opt = self.opt
        losses = {}
        fake_image, kld, extras = self.generate_fake(semantics, real_image, compute_kld_loss=opt.use_vae)
        if kld is not None:
            losses['KLD'] = kld
        losses.update(self.generator.extra_losses(extras, real_image, opt, self.criterionVGG))
        own = self.discriminator.generator_losses(self.discriminator, fake_image, semantics, opt)
        if own is not None:
            losses.update(own)
        else:
            (pred_fake, feat_fake), (_, feat_real) = self.discriminate(semantics, fake_image, real_image,
                                                                       unwrapped=True)
            losses['GAN'] = self.criterionGAN(pred_fake, True, for_discriminator=False)
            if not opt.no_ganFeat_loss:
                losses['GAN_Feat'] = feature_matching_loss(feat_fake, feat_real, opt.lambda_feat)
        if not opt.no_vgg_loss:
            losses['VGG'] = self.criterionVGG(fake_image, real_image).float() * opt.lambda_vgg
        return losses, fake_image

    def compute_discriminator_loss(self, semantics: Tensor, real_image: Tensor) -> Dict[str, Tensor]:
        with torch.no_grad():
            fake_image, _, _ = self.generate_fake(semantics, real_image, unwrapped=True)
        own = self.discriminator.discriminator_losses(self.discriminator, self.netD, fake_image.detach(), real_image,
                                                      semantics, self.opt, self.draws)
        if own is not None:
            return own
        fake_image = fake_image.detach().requires_grad_()
        (pred_fake, _), (pred_real, _) = self.discriminate(semantics, fake_image, real_image)
        return {'D_Fake': self.criterionGAN(pred_fake, False, for_discriminator=True),
                'D_real': self.criterionGAN(pred_real, True, for_discriminator=True)}

    # -- networks ----------------------------------------------------------------------------
    def encode_z(self, real_image: Tensor, unwrapped: bool = False) -> Tuple[Tensor, Tensor, Tensor]:
        """(z, mu, logvar) of the style encoder for the real image."""
        mu, logvar = (unwrap(self.netE) if unwrapped else self.netE)(real_image)
        mu, logvar = mu.float(), logvar.float()
        return reparameterize(mu, logvar), mu, logvar

    def generate_fake(self, semantics: Tensor, real_image: Optional[Tensor], compute_kld_loss: bool = False,
                      unwrapped: bool = False, use_ema: bool = False,
                      z: Optional[Tensor] = None) -> Tuple[Tensor, Optional[Tensor], dict]:
        """(fake image, KLD loss or None, the generator's extra outputs, e.g. SCGAN's routing image).
        With --use_vae the style code is z when given, else the encoded real image, else (no real
        image) a draw from the prior; a generator that draws its own noise gets it from ``draws``."""
        kld = None
        if self.opt.use_vae and z is None and real_image is not None:
            z, mu, logvar = self.encode_z(real_image, unwrapped)
            if compute_kld_loss:
                kld = kld_loss(mu, logvar) * self.opt.lambda_kld
        if z is None and not self.opt.use_vae:
            shape = self.generator.noise_shape(semantics)
            if shape is not None:
                z = self.draws.normal(shape, semantics.device)
        net = self.netA if use_ema else self.generator if unwrapped else self.netG
        image, extras = self.generator.image_and_extras(net(semantics, z=z))
        return image, kld, extras

    def discriminate(self, semantics: Tensor, fake_image: Tensor, real_image: Tensor, unwrapped: bool = False):
        """((fake predictions, fake feature groups), (real predictions, real feature groups)), float32.

        Fake and real go through D in one batch so batch-dependent norms see both."""
        core = self.discriminator
        images = torch.cat([fake_image, real_image.to(fake_image.dtype)], dim=0)
        out = (core if unwrapped else self.netD)(*core.inputs(images, semantics.to(fake_image.dtype)))
        preds, groups = core.predictions_and_features(out)
        preds, groups = [p.float() for p in preds], [[f.float() for f in g] for g in groups]
        return split_halves(preds, groups, 0), split_halves(preds, groups, 1)
