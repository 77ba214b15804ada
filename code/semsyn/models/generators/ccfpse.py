"""CC-FPSE generator (Liu et al., NeurIPS 2019, xh-liu/CC-FPSE ``CondConvGenerator``), same names.

A label-encoding pyramid (stride-2 levels down to the latent size, one more level with ``more``
upsampling) with an FPN top-down path gives a semantic feature per scale. Each residual block
predicts, from cat([nearest-resized one-hot map, that feature]), per-pixel 3x3 depthwise kernels
and sigmoid channel gates for its two conditional convolutions.

Fast paths (ops/paths.py; the reference path is the original's computation): the first layers of
the four predictors and of the shortcut's SPADE all read the same conditioning map, so they run as
one convolution, its one-hot channels as lookups (ops/label_conv.py), as is the label encoder's
first convolution; the conditional convolutions keep no unfolded copy (ops/depthwise.py).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ...kernels.conv3x3 import conv2d_same
from ...kernels.label_conv import label_conv
from ...kernels.label_map import generator_labels
from ...kernels.relu_split import relu_split
from ...kernels.winograd import winograd_pays
from ...norm_spec import NormSpec
from ..ops import SPADE, get_nonspade_norm_layer
from ..ops.depthwise import pixel_depthwise_conv, pixel_depthwise_conv_unfold, predicted_depthwise_conv
from ..ops.latent import latent_input
from ..ops.paths import fast_paths_enabled
from ..ops.resize import nearest_resize
from ..ops.spectral import current_weight, spectral_norm
from .base import Generator

# the blocks' shortcut norm, whatever --norm_G says (as the original)
SHORTCUT_NORM = NormSpec(spectral=False, kind='spade', param_free='syncbatch', kernel_size=3, text='spadesyncbatch3x3')

PREDICTOR_HIDDEN = 128  # hard-coded width of the kernel and gate predictors in the original


def batch_norm(channels):
    """BatchNorm2d; converted to SyncBatchNorm for distributed training (the original's --mpdist)."""
    return nn.BatchNorm2d(channels, affine=True)


class DepthConv(nn.Module):
    """Per-pixel depthwise 3x3 conv whose kernels a predictor network computes from ``cond``.

    ``norm_layer`` is built by the original but never used; it is kept so checkpoints load."""

    def __init__(self, channels):
        super().__init__()
        self.norm_layer = batch_norm(channels).requires_grad_(False)  # unused: no gradient, none for DDP

    def forward(self, x, cond, predictor):
        """The original: kernels predicted from cond, applied by unfold, kept for backward."""
        return pixel_depthwise_conv_unfold(x, predictor(cond))

    @staticmethod
    def from_hidden(x, hidden, last, recompute=False):
        """The fast path, from the predictor's hidden layer: ``last`` is its final convolution. Where
        the kernels' convolution runs as Winograd (ops/winograd.py: maps of 64x64 pixels and more,
        about half the time) it goes through predicted_depthwise_conv, which with ``recompute`` does
        not store the kernels for backward but recomputes them from ``hidden`` (one more convolution,
        C*9 channels less memory), else keeps them. On smaller maps ``recompute`` keeps them too,
        through predicted_depthwise_conv: there they are small (at most 1/16 of a 256x256 map's per
        image) and their direct convolution takes 2.25-3.2x the Winograd one's products (DepthsepCCBlock)."""
        if torch.is_grad_enabled():
            winograd = winograd_pays(hidden, last.weight)
            if recompute or winograd:
                return predicted_depthwise_conv(x, hidden, last.weight, last.bias, keep=not (recompute and winograd))
        return pixel_depthwise_conv(x, conv2d_same(hidden, last.weight, last.bias))


def kernel_predictor(cond_nc, out_nc, gate=False):
    layers = [nn.Conv2d(cond_nc, PREDICTOR_HIDDEN, kernel_size=3, padding=1), nn.ReLU(inplace=True),
              nn.Conv2d(PREDICTOR_HIDDEN, out_nc, kernel_size=3, padding=1)]
    if gate:
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


class DepthsepCCBlock(nn.Module):
    """Residual block with predicted depthwise kernels:
    BN -> cond. depthwise conv -> 1x1 conv -> x gate -> LeakyReLU, twice; SPADE-normed 1x1 shortcut.

    ``norm_0`` is built by the original but never used; it is kept so checkpoints load.
    Fast path memory: no unfolded input is stored (ops/depthwise.py), and on maps of 64x64 pixels
    and more the first conditional conv (C_in*9 predicted channels, the largest tensor of the block)
    recomputes its kernels in backward, in channel chunks; the block's backward peak is then set by
    the second half, whose kernels are stored (recomputing those too lowers the generator's peak and
    costs time: ADE20K configuration at 256x256 on the CPU, G step 1746 -> 1530 MiB and 1051 -> 1104
    GFLOP, 1-6% of its time; keeping the first conv's kernels too would cost another C_in*9
    channels). On smaller maps the first conv keeps its kernels: block forward + backward, medians
    of alternating runs, 873 -> 780 ms on 32x32 (up_0 at 256x256), 301 -> 269 ms on 16x16, 3.3 ->
    2.7 s and 1.86 -> 1.65 s on 32x32 and 16x16 at batch 8; the G step's peak +56 MiB at 256x256,
    +256 MiB at 128x128 x8 (0.57x the reference's at both)."""

    def __init__(self, fin, fout, opt, cond_nc):
        super().__init__()
        self.learned_shortcut = fin != fout
        fmiddle = min(fin, fout)
        self.gen_weights1 = kernel_predictor(cond_nc, fin * 9)
        self.gen_weights2 = kernel_predictor(cond_nc, fmiddle * 9)
        self.gen_se_weights1 = kernel_predictor(cond_nc, fmiddle, gate=True)
        self.gen_se_weights2 = kernel_predictor(cond_nc, fout, gate=True)
        self.conv_0 = DepthConv(fin)
        self.norm_0 = batch_norm(fmiddle).requires_grad_(False)  # unused: no gradient, none for DDP
        self.conv_1 = nn.Conv2d(fin, fmiddle, kernel_size=1)
        self.norm_1 = batch_norm(fin)
        self.conv_2 = DepthConv(fmiddle)
        self.norm_2 = batch_norm(fmiddle)
        self.conv_3 = nn.Conv2d(fmiddle, fout, kernel_size=1)
        if self.learned_shortcut:
            self.conv_s = nn.Conv2d(fin, fout, kernel_size=1, bias=False)
            if opt.norm_G_spec.spectral:
                self.conv_s = spectral_norm(self.conv_s)
            self.norm_s = SPADE(SHORTCUT_NORM, fin, cond_nc)

    def forward(self, x, semantics, label_feature, labels=None):
        """``labels``: the semantics as a LabelMap (fast paths)."""
        if not fast_paths_enabled(x):
            return self.forward_reference(x, semantics, label_feature)
        first = [self.gen_weights1[0], self.gen_weights2[0], self.gen_se_weights1[0], self.gen_se_weights2[0]]
        if self.learned_shortcut:
            first.append(self.norm_s.mlp_shared[0])
        hidden = fused_first_layers(first, semantics, label_feature, labels)
        x_s = self.conv_s(self.norm_s.modulate(x, hidden[4])) if self.learned_shortcut else x
        dx = DepthConv.from_hidden(self.norm_1(x), hidden[0], self.gen_weights1[2], recompute=True)
        dx = F.leaky_relu(self.conv_1(dx) * torch.sigmoid(_conv(hidden[2], self.gen_se_weights1[2])), 2e-1)
        dx = DepthConv.from_hidden(self.norm_2(dx), hidden[1], self.gen_weights2[2])
        dx = F.leaky_relu(self.conv_3(dx) * torch.sigmoid(_conv(hidden[3], self.gen_se_weights2[2])), 2e-1)
        return x_s + dx

    def forward_reference(self, x, semantics, label_feature):
        """The original's computation: separate predictor convolutions over the resized map's copy."""
        cond = torch.cat([F.interpolate(semantics, size=x.size()[2:], mode='nearest'), label_feature], dim=1)
        x_s = self.conv_s(self.norm_s(x, cond)) if self.learned_shortcut else x
        dx = self.conv_0(self.norm_1(x), cond, self.gen_weights1)
        dx = F.leaky_relu(self.conv_1(dx) * self.gen_se_weights1(cond), 2e-1)
        dx = self.conv_2(self.norm_2(dx), cond, self.gen_weights2)
        dx = F.leaky_relu(self.conv_3(dx) * self.gen_se_weights2(cond), 2e-1)
        return x_s + dx


def _conv(x, conv):
    return conv2d_same(x, conv.weight, conv.bias)


def fused_first_layers(convs, semantics, label_feature, labels):
    """relu(conv(cond)) of every conv in ``convs`` (3x3, 128 outputs each, all reading cond =
    cat([semantics resized to label_feature's size, label_feature])) as one convolution, split
    per conv (ops/relu_split.py: one gradient map in backward); with ``labels`` (a LabelMap) the
    one-hot channels by lookups."""
    weight = torch.cat([c.weight for c in convs])
    bias = torch.cat([c.bias for c in convs])
    size = label_feature.shape[2:]
    if labels is not None:
        at = labels.at(size)
        rest = label_feature if at.extra is None else torch.cat([at.extra, label_feature], dim=1)
        out = label_conv(at, weight, bias, rest)
    else:
        cond = torch.cat([nearest_resize(semantics, size), label_feature], dim=1)
        out = conv2d_same(cond, weight, bias)
    return relu_split(out, [c.weight.shape[0] for c in convs])


class CondConvGenerator(Generator):
    """forward(semantics, z=None) -> image in [-1, 1] (tanh)."""

    METHOD = 'CC-FPSE, with --netD fpse'
    OPTION_DEFAULTS = {'norm_G': 'spectralsync_batch'}
    UPSAMPLING = ('normal', 'more')
    TTUR_FIXED_BETAS = True

    def __init__(self, opt):
        super().__init__()
        self.opt = opt
        nf = opt.ngf
        self.more = opt.num_upsampling_layers == 'more'
        if opt.num_upsampling_layers == 'most':
            raise ValueError("CC-FPSE's generator supports num_upsampling_layers normal and more")
        self.fc = latent_input(opt, 16 * nf)

        norm_layer = get_nonspade_norm_layer(opt.norm_G_spec)
        levels = 7 if self.more else 6

        def level(cin, cout, ks, stride):
            return nn.Sequential(norm_layer(nn.Conv2d(cin, cout, ks, stride=stride, padding=ks // 2)),
                                 nn.LeakyReLU(0.2, True))

        # bottom-up label encoder: full resolution, then stride-2 levels down to the latent size
        self.add_module('labelenc1', level(opt.semantic_nc, nf, 3, 1))
        for i in range(2, levels + 1):
            self.add_module(f'labelenc{i}', level(nf, nf, 3, 2))
        # top-down path: 1x1 laterals, 3x3 smoothing
        for i in range(1, levels):
            self.add_module(f'labellat{i}', level(nf, nf, 1, 1))
        for i in range(1, levels):
            self.add_module(f'labeldec{i}', level(nf, nf, 3, 1))
        self.levels = levels

        cond_nc = opt.semantic_nc + nf
        self.head_0 = DepthsepCCBlock(16 * nf, 16 * nf, opt, cond_nc)
        self.G_middle_0 = DepthsepCCBlock(16 * nf, 16 * nf, opt, cond_nc)
        self.G_middle_1 = DepthsepCCBlock(16 * nf, 16 * nf, opt, cond_nc)
        self.up_0 = DepthsepCCBlock(16 * nf, 8 * nf, opt, cond_nc)
        self.up_1 = DepthsepCCBlock(8 * nf, 4 * nf, opt, cond_nc)
        self.up_2 = DepthsepCCBlock(4 * nf, 2 * nf, opt, cond_nc)
        self.up_3 = DepthsepCCBlock(2 * nf, 1 * nf, opt, cond_nc)
        self.conv_img = nn.Conv2d(nf, 3, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2)

    def label_pyramid(self, semantics, labels=None):
        """Semantic features from coarse (latent size) to full resolution."""
        encoded = [self.encode_labels(semantics, labels)]
        for i in range(2, self.levels + 1):
            encoded.append(getattr(self, f'labelenc{i}')(encoded[-1]))
        features = [encoded[-1]]
        for i in range(1, self.levels):
            lateral = getattr(self, f'labellat{i}')(encoded[-1 - i])
            features.append(getattr(self, f'labeldec{i}')(self.up(features[-1]) + lateral))
        return features

    def encode_labels(self, semantics, labels=None):
        """labelenc1, its convolution over the one-hot map by lookups when ``labels`` is given."""
        if labels is None:
            return self.labelenc1(semantics)
        norm_conv, act = self.labelenc1
        conv, norm = (norm_conv[0], norm_conv[1]) if isinstance(norm_conv, nn.Sequential) else (norm_conv, None)
        out = label_conv(labels, current_weight(conv), conv.bias, labels.extra)
        return act(norm(out) if norm is not None else out)

    def forward(self, semantics, z=None):
        labels = generator_labels(semantics, self.opt)
        x = self.fc(semantics, z)
        feats = self.label_pyramid(semantics, labels)
        x = self.head_0(x, semantics, feats[0], labels)
        x = self.up(x)
        x = self.G_middle_0(x, semantics, feats[1], labels)
        k = 1
        if self.more:
            x = self.up(x)
            k = 2
        x = self.G_middle_1(x, semantics, feats[k], labels)
        for block in (self.up_0, self.up_1, self.up_2, self.up_3):
            x = self.up(x)
            k += 1
            x = block(x, semantics, feats[k], labels)
        x = self.conv_img(F.leaky_relu(x, 2e-1))
        return torch.tanh(x)
