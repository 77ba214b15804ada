"""Label maps and photos generated on the fly: the demo's default data and the tests' workhorse.

A sample is a random layout (Voronoi cells with a few rectangles/ellipses on top), each region one
instance with a random class, painted with its class's appearance: a base colour and a texture.
Classes come in pairs of one colour told apart only by their texture (flat, stripes, checkers,
dots), and every fourth class repeats a texture in another colour, so telling the classes apart --
and synthesizing them -- takes both. Textures are anchored to the image coordinates, so a label
map has one right picture (up to a little per-region brightness and pixel noise) that a
deterministic generator can learn; flips mirror the layout, not the textures. Same (seed, phase,
index) -> same sample anywhere.
"""
import colorsys
import zlib
from argparse import Namespace

import numpy as np
import torch

from ..errors import UserError
from .base import SeededDataset
from .transforms import uses_flip

STYLE_VERSION = 3  # bump when the appearance of the classes changes (cached segmenters depend on it)
GOLDEN = 0.6180339887498949  # low-discrepancy steps spread the colours apart
TEXTURES = ('flat', 'stripes', 'checkers', 'dots')
# Every texture repeats every TEXTURE_PERIOD pixels along x and along y, a power of two: a
# generator that upsamples by nearest-neighbour doubling knows a pixel's position modulo 2, 4, 8 from
# its feature grid, so it can draw a texture in the right phase (tilted or non-power-of-two periods
# are not learnable by a convolutional generator: they came out as blur and false stripes).
TEXTURE_PERIOD = 8
TEXTURE_AMPLITUDE = 0.25
NOISE_STD = 0.02
REGION_JITTER = 0.03


def class_styles(n):
    """Per class: base colour [n, 3] in [0, 1] (classes 2k and 2k+1 share one) and texture kind
    (class c has TEXTURES[c % 4])."""
    colours = np.empty((n, 3), np.float32)
    for c in range(n):
        k = c // 2
        hue = (k * GOLDEN) % 1.0
        sat = 0.55 + 0.4 * ((k * 0.7548776662) % 1.0)
        val = 0.45 + 0.4 * ((k * 0.5698402910 + 0.5) % 1.0)
        colours[c] = colorsys.hsv_to_rgb(hue, sat, val)
    kinds = np.arange(n) % len(TEXTURES)
    return colours, kinds


def texture(kind, x, y):
    """Texture `kind` in [-1, 1] at pixel coordinates x, y (0 for flat): diagonal stripes, checkers of
    4-pixel squares, a lattice of dots; all periodic in TEXTURE_PERIOD along x and y."""
    if kind == 0:
        return np.zeros_like(x)
    freq = np.float32(2 * np.pi / TEXTURE_PERIOD)
    u, v = x * freq, y * freq
    if kind == 1:
        return np.sin(u + v)
    if kind == 2:
        return np.sign(np.sin(u + 0.5) * np.sin(v + 0.5))
    return np.where(np.cos(u) * np.cos(v) > 0.5, 1.0, -0.4).astype(np.float32)


class SyntheticDataset(SeededDataset):
    def __init__(self, opt: Namespace):
        super().__init__(opt)
        if opt.synthetic_size < 1:
            raise UserError(f'--synthetic_size must be a positive integer, got {opt.synthetic_size}')
        self.width = opt.crop_size
        self.height = max(1, round(opt.crop_size / opt.aspect_ratio))
        self.size = min(opt.synthetic_size, opt.max_dataset_size)
        # Each phase draws from its own stream, so test samples are not the training samples.
        self.stream = zlib.crc32(opt.phase.encode())
        self.colours, self.kinds = class_styles(opt.label_nc)
        self.yy, self.xx = np.mgrid[0:self.height, 0:self.width].astype(np.float32)

    def __len__(self):
        return self.size

    def generate(self, index, flip=False):
        """(label [H,W] int64, instance [H,W] int64, image [H,W,3] float32 in [0,1]) of sample index;
        with flip, the layout mirrored left-right."""
        rng = np.random.default_rng([self.opt.seed % 2 ** 64, self.stream, index])
        region = self.layout(rng)
        if flip:
            region = np.ascontiguousarray(region[:, ::-1])
        classes = rng.integers(0, self.opt.label_nc, size=int(region.max()) + 1)
        label = classes[region]
        image = np.empty((self.height, self.width, 3), np.float32)
        for c in np.unique(label):
            mask = label == c
            image[mask] = self.colours[c] + TEXTURE_AMPLITUDE * texture(self.kinds[c], self.xx[mask],
                                                                        self.yy[mask])[:, None]
        jitter = rng.uniform(-REGION_JITTER, REGION_JITTER, size=len(classes)).astype(np.float32)
        image += jitter[region][..., None]
        image += rng.normal(0, NOISE_STD, size=image.shape).astype(np.float32)
        np.clip(image, 0, 1, out=image)
        return label, region + 1, image  # region r is instance r + 1 (0 stays free)

    def layout(self, rng):
        """Region index per pixel: Voronoi cells, then 1-3 rectangles or ellipses on top."""
        h, w, yy, xx = self.height, self.width, self.yy, self.xx
        cells = int(rng.integers(3, 7))
        centres = rng.random((cells, 2)).astype(np.float32) * np.float32([h, w])
        dist = (yy[None] - centres[:, 0, None, None]) ** 2 + (xx[None] - centres[:, 1, None, None]) ** 2
        region = dist.argmin(0)
        for j in range(int(rng.integers(1, 4))):
            cy, cx, ry, rx, shape = rng.random(5)
            cy, cx, ry, rx = cy * h, cx * w, (0.1 + 0.25 * ry) * h, (0.1 + 0.25 * rx) * w
            if shape < 0.5:
                inside = (np.abs(yy - cy) <= ry) & (np.abs(xx - cx) <= rx)
            else:
                inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
            region[inside] = cells + j
        return region

    def __getitem__(self, index):
        if not 0 <= index < self.size:
            raise IndexError(f'synthetic sample {index} out of range (size {self.size})')
        label, instance, image = self.generate(index, flip=uses_flip(self.opt) and self.rng(index).random() > 0.5)
        image = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
        as_map = lambda arr: torch.from_numpy(np.ascontiguousarray(arr))[None]
        return {
            'label': as_map(label),
            'instance': torch.tensor(0) if self.opt.no_instance else as_map(instance),
            'image': image.mul_(2).sub_(1),
            'path': f'synthetic_{index:06d}',
        }
