"""SCGAN's routing (semantic-vector) network and its position prior, with the names of
dvlab-research/SCGAN (the generator registers it as ``pyramid_spaital_routing``, typo kept).

From the label map it builds a pyramid of ``ROUTING_LEVELS`` levels (full resolution down to the
generator's latent size: bilinear halving, or nearest halving with ``--pyr_pos``) and decodes it
top-down: ``labelDec1`` on the coarsest level, then for each finer level
``labelDec{i}(cat([nearest-upsampled previous feature, label map of the level]))``, where every
``labelDec{i}`` (i >= 2) starts with a LeakyReLU on that concatenation. The feature of each level
gives the routing weights of the generator blocks at that size (channel pooling, see
``spatial_conditional.channel_pool``); ``toRGB`` turns the finest one into an auxiliary image
(hardtanh), which SCGAN trains to reconstruct the real image.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..dispatch import Dispatched
from .resize import bilinear_halve
from .spectral import spectral_norm

ROUTING_LEVELS = 6  # latent size (crop / 32) .. full resolution, 'normal' upsampling
ROUTING_WIDTHS = (16, 8, 4, 2, 1, 1)  # x nrf, coarse to fine


def gaussian_window(size, sigma, device=None):
    """``size`` x ``size`` Gaussian, not normalised (peak 1 at the centre), float32; the outer
    product of the 1-D window, as the original computes it."""
    ax = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    g = torch.exp(-ax ** 2 / (2 * sigma ** 2))
    return g[:, None] * g[None, :]


def position_prior(label_map, size=7, sigma=1.5, iterations=1, relative=False):
    """SCGAN's position prior: iterative Gaussian propagation of a (one-hot) label map.

    Each iteration convolves every channel with ``gaussian_window`` (zero padding), divides by the
    previous iterate + 1e-8 with ``relative``, and multiplies by the input map."""
    if size % 2 != 1:
        raise ValueError(f'--ig_sz must be odd, got {size}')
    channels = label_map.shape[1]
    window = gaussian_window(size, sigma, device=label_map.device).to(label_map.dtype)
    window = window.expand(channels, 1, size, size)
    x = label_map
    for _ in range(iterations):
        y = F.conv2d(x, window, padding=size // 2, groups=channels)
        if relative:
            y = y / (x + 1e-8)
        x = y * label_map
    return x


def halve(x, mode):
    if mode == 'nearest':
        return F.interpolate(x, scale_factor=0.5, mode='nearest')
    return bilinear_halve(x)


def label_pyramid(semantics, opt, levels=ROUTING_LEVELS):
    """Label maps from full resolution (index 0) down ``levels - 1`` halvings, with the position
    prior of the options applied as the original does:

    - ``--position`` without ``--pyr_pos``: the prior runs once on the full-resolution map (all
      channels but the instance-edge one, which is kept as is), then bilinear halving;
    - ``--position --pyr_pos``: nearest halving; counting levels from the coarsest (j = 0) a level is
      blurred when ``levels - j < pyr_rng``, the coarser ones while the pyramid is built (a blurred
      level is what the next coarser one is halved from), the full-resolution one last;
    - otherwise: bilinear halving of the map."""
    def prior(x):
        return position_prior(x, opt.ig_sz, opt.ig_sigma, opt.ig_iter, opt.ig_relative)

    if opt.position and opt.pyr_pos:
        def blurred(fine_index):
            return levels - (levels - 1 - fine_index) < opt.pyr_rng
        pyramid = [semantics]
        for i in range(1, levels):
            level = halve(pyramid[-1], 'nearest')
            pyramid.append(prior(level) if blurred(i) else level)
        if blurred(0):
            pyramid[0] = prior(semantics)
        return pyramid
    if opt.position:
        if opt.no_instance:
            semantics = prior(semantics)
        else:
            semantics = torch.cat([prior(semantics[:, :-1]), semantics[:, -1:]], dim=1)
    pyramid = [semantics]
    for _ in range(1, levels):
        pyramid.append(halve(pyramid[-1], 'bilinear'))
    return pyramid


class SemanticVectorGenerator(Dispatched):
    """The routing network. forward(semantics) -> (features, image): ``features`` one per level, coarse
    (latent size, 16*nrf channels) to fine (full resolution, nrf channels), without a final
    activation; ``image`` the hardtanh of ``toRGB`` on the finest feature."""

    def __init__(self, opt):
        super().__init__()
        self.opt = opt
        self.levels = ROUTING_LEVELS

        def conv(cin, cout):
            layer = nn.Conv2d(cin, cout, kernel_size=3, padding=1)
            return layer if opt.no_spectral_on_routing else spectral_norm(layer)

        label_nc, nrf = opt.semantic_nc, opt.nrf
        widths = [w * nrf for w in ROUTING_WIDTHS]
        self.labelDec1 = nn.Sequential(conv(label_nc, widths[0]), nn.LeakyReLU(0.2, True),
                                       conv(widths[0], widths[0]))
        for i in range(1, self.levels):
            self.add_module(f'labelDec{i + 1}', nn.Sequential(
                nn.LeakyReLU(0.2, True), conv(widths[i - 1] + label_nc, widths[i]), nn.LeakyReLU(0.2, True),
                conv(widths[i], widths[i])))
        self.toRGB = nn.Sequential(nn.Conv2d(nrf, nrf // 2, kernel_size=3, padding=1), nn.LeakyReLU(0.2, True),
                                   nn.Conv2d(nrf // 2, 3, kernel_size=3, padding=1))

    def forward(self, semantics):
        pyramid = label_pyramid(semantics, self.opt, self.levels)
        feature = self.labelDec1(pyramid[-1])
        features = [feature]
        for i in range(1, self.levels):
            level = pyramid[-1 - i]
            up = F.interpolate(feature, size=level.shape[2:], mode='nearest')  # 2x nearest
            feature = getattr(self, f'labelDec{i + 1}')(torch.cat([up, level], dim=1))
            features.append(feature)
        image = F.hardtanh(self.toRGB(feature))
        return features, image
