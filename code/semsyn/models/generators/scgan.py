"""SCGAN generator ("Image Synthesis via Semantic Composition", Wang et al., ICCV 2021;
dvlab-research/SCGAN ``SCGGenerator``), same parameter names.

A routing network (``pyramid_spaital_routing``, ops/routing.py) decodes a pyramid of the label map
into one semantic feature per generator resolution. Pooling each feature's channels into K bins
gives per-pixel routing weights, ``act(w * temperature)`` (softmax over the experts or sigmoid),
which mix K expert convolutions and K expert affine maps in every residual block
(ops/spatial_conditional.py). The first feature map has ``16 * nff`` channels (from z or from
the downsampled label map); the head block maps it to ``16 * ngf``.

forward(semantics, z=None) -> (image, routing_image, routing_weights):
hardtanh image; the routing network's auxiliary hardtanh image (SCGAN's reconstruction loss);
the raw pooled routing weights of the conv experts, one [N, num_experts_conv, H, W] per level,
coarse to fine (before the temperature and the activation).
"""
import torch.nn as nn
import torch.nn.functional as F

from ...errors import UserError
from ...option_table import ANY, AT_LEAST_0, AT_LEAST_1, POSITIVE
from ..dispatch import forward_context, label_channels
from ..encoder import SCGANConvEncoder
from ..losses import image_reconstruction_loss
from ..ops import SPADE
from ..ops.latent import latent_input
from ..ops.routing import ROUTING_LEVELS, SemanticVectorGenerator
from ..ops.spatial_conditional import SpatialCondConv2d, SpatialCondNorm, channel_pool, routing_activation
from ..ops.spectral import spectral_norm
from .base import Generator


class SCCResnetBlock(nn.Module):
    """Residual block: spatial conditional norm -> LeakyReLU(0.2) -> spatial conditional conv,
    twice. Learned shortcut when fin != fout: SPADE norm (on the label map) -> 3x3 conv with bias,
    always spectral-normed."""

    def __init__(self, fin, fout, opt):
        super().__init__()
        norm = opt.norm_G_spec  # [spectral]scc<param-free norm><k>x<k>
        spectral, norm_kind = norm.spectral, norm.param_free
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        self.conv_0 = SpatialCondConv2d(fin, fmiddle, opt.num_experts_conv, spectral=spectral)
        self.conv_1 = SpatialCondConv2d(fmiddle, fout, opt.num_experts_conv, spectral=spectral)
        if self.learned_shortcut:
            self.conv_s = spectral_norm(nn.Conv2d(fin, fout, kernel_size=3, padding=1))
            self.norm_s = SPADE(norm, fin, opt.semantic_nc)
        self.norm_0 = SpatialCondNorm(norm_kind, fin, opt.num_experts_norm)
        self.norm_1 = SpatialCondNorm(norm_kind, fmiddle, opt.num_experts_norm)

    def forward(self, x, semantics, conv_weights, norm_weights):
        x_s = self.conv_s(self.norm_s(x, semantics)) if self.learned_shortcut else x
        dx = self.conv_0(F.leaky_relu(self.norm_0(x, norm_weights), 2e-1), conv_weights)
        dx = self.conv_1(F.leaky_relu(self.norm_1(dx, norm_weights), 2e-1), conv_weights)
        return x_s + dx


class SCGGenerator(Generator):
    """forward(semantics, z=None) -> (image, routing_image, raw conv routing weights per level).

    Pairs with SCGAN's encoder; adds the routing image's reconstruction loss to G's objective."""

    encoder = SCGANConvEncoder
    METHOD = 'SCGAN'
    OPTIONS = {
        'num_experts_conv': (int, 1, 'number of expert kernels of the conditional convolution', AT_LEAST_1),
        'num_experts_norm': (int, 1, 'number of expert affine parameters of the conditional normalisation',
                             AT_LEAST_1),
        'weight_type': (str, 'softmax', 'activation of the routing weights', ['softmax', 'sigmoid']),
        'temperature': (float, 1.0, 'routing weights are multiplied by this before the activation', POSITIVE),
        'nrf': (int, 64, 'width of the routing (semantic-vector) network', AT_LEAST_1),
        'nff': (int, 32, 'width of the first feature map', AT_LEAST_1),
        'position': (bool, False, 'position prior (iterative Gaussian propagation of the label map)'),
        'pyr_pos': (bool, False, 'apply the position prior on the label pyramid'),
        'pyr_rng': (int, 5, 'number of pyramid levels blurred by the position prior', AT_LEAST_0),
        'ig_sz': (int, 7, 'window size of the position prior', AT_LEAST_1),
        'ig_sigma': (float, 1.5, 'sigma of the position prior', POSITIVE),
        'ig_iter': (int, 1, 'iterations of the position prior', AT_LEAST_0),
        'ig_relative': (bool, False, "relative update in the position prior; false as in all of SCGAN's configs "
                                     "(SCGAN's own parser defaults it to true, which none of its released models "
                                     'use)'),
        'no_spectral_on_routing': (bool, False, 'no spectral norm in the routing network'),
    }
    TRAIN_OPTIONS = {
        'lambda_w_recon': (float, 2.0, 'weight of the routing-image reconstruction loss', AT_LEAST_0),
        'rw_loss': (str, 'l1', 'loss of the routing-image reconstruction', ['l1', 'l2', 'vgg']),
        'rw_vgg': (bool, False, "accepted for SCGAN's configs and ignored, as in SCGAN, where nothing reads it "
                                '(use --rw_loss vgg for a VGG routing loss)'),
    }
    OPTION_GROUP = ('SCGAN', 'spatial conditional convolution and normalisation, routing network, position prior')
    OPTION_DEFAULTS = {'norm_G': 'spectralsccsyncbatch3x3', 'nef': -1}
    UPSAMPLING = ('normal',)
    # variants of SCGAN's code its released models don't use: accepted at these values only
    ORIGINAL_FIXED = {'sampling': 'none', 'dropblock': False, 'smooth': False, 'use_unet': False,
                      'labelnoise': False, 'routing_detach': False, 'random_z': False, 'db_prob': ANY}

    @classmethod
    def check_options(cls, opt):
        if opt.norm_G_spec.kind != 'scc':
            raise UserError(f"--norm_G {opt.norm_G}: SCGAN's generator needs a spatial conditional norm, "
                            '[spectral]scc<syncbatch|batch|instance><k>x<k>, e.g. spectralsccsyncbatch3x3')

    def __init__(self, opt):
        super().__init__()
        if opt.num_upsampling_layers != 'normal':
            raise ValueError(f"--num_upsampling_layers {opt.num_upsampling_layers}: SCGAN's generator supports "
                             f"'normal' only (its routing pyramid has {ROUTING_LEVELS} levels)")
        if opt.weight_type not in ('softmax', 'sigmoid'):
            raise ValueError(f"--weight_type must be softmax or sigmoid, got {opt.weight_type!r}")
        self.opt = opt
        nf, ff = opt.ngf, opt.nff
        self.fc = latent_input(opt, 16 * ff)
        self.pyramid_spaital_routing = SemanticVectorGenerator(opt)
        self.head_0 = SCCResnetBlock(16 * ff, 16 * nf, opt)
        self.G_middle_0 = SCCResnetBlock(16 * nf, 16 * nf, opt)
        self.G_middle_1 = SCCResnetBlock(16 * nf, 16 * nf, opt)
        self.up_0 = SCCResnetBlock(16 * nf, 8 * nf, opt)
        self.up_1 = SCCResnetBlock(8 * nf, 4 * nf, opt)
        self.up_2 = SCCResnetBlock(4 * nf, 2 * nf, opt)
        self.up_3 = SCCResnetBlock(2 * nf, 1 * nf, opt)
        self.conv_img = nn.Conv2d(nf, 3, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2)

    def routing(self, semantics):
        """(raw conv routing weights, conv routing weights, norm routing weights, routing image),
        the first three one per level, coarse to fine."""
        opt = self.opt
        features, image = self.pyramid_spaital_routing(semantics)
        raw = [channel_pool(f, opt.num_experts_conv) for f in features]
        conv_w = [routing_activation(r, opt.weight_type, opt.temperature) for r in raw]
        if opt.num_experts_norm == opt.num_experts_conv:
            norm_w = conv_w
        else:
            norm_w = [routing_activation(channel_pool(f, opt.num_experts_norm), opt.weight_type, opt.temperature)
                      for f in features]
        return raw, conv_w, norm_w, image

    def forward(self, semantics, z=None):
        with forward_context(semantics, label_channels(self.opt)):
            return self.synthesize(semantics, z)

    def synthesize(self, semantics, z=None):
        x = self.fc(semantics, z)
        raw, conv_w, norm_w, routing_image = self.routing(semantics)
        x = self.head_0(x, semantics, conv_w[0], norm_w[0])
        x = self.up(x)
        x = self.G_middle_0(x, semantics, conv_w[1], norm_w[1])
        x = self.G_middle_1(x, semantics, conv_w[1], norm_w[1])  # same size: same routing level
        for level, block in enumerate((self.up_0, self.up_1, self.up_2, self.up_3), start=2):
            x = self.up(x)
            x = block(x, semantics, conv_w[level], norm_w[level])
        x = self.conv_img(F.leaky_relu(x, 2e-1))
        return F.hardtanh(x), routing_image, raw

    @staticmethod
    def image_and_extras(out):
        image, routing_image, routing_weights = out
        return image, {'routing_image': routing_image, 'routing_weights': routing_weights}

    @staticmethod
    def extra_losses(extras, real_image, opt, vgg):
        """SCGAN's routing-image reconstruction, --rw_loss x --lambda_w_recon, named as SCGAN names it
        (W_Recon_l1)."""
        loss = image_reconstruction_loss(opt.rw_loss, extras['routing_image'], real_image, vgg)
        return {f'W_Recon_{opt.rw_loss}': loss * opt.lambda_w_recon}

    @staticmethod
    def vgg_switch(opt):
        return '--rw_loss l1' if opt.rw_loss == 'vgg' else None
