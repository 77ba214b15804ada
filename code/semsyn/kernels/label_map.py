"""A one-hot semantic map held as integer labels, with what the fast label convolutions need.

The generators build semantics as a one-hot label map (+ non-one-hot channels such as instance
edges). On that input a convolution is a sum of looked-up weight columns; ``LabelMap`` holds the
integer labels, checked to be exactly what the one-hot channels say, and caches per resolution
what every layer at that resolution shares (the nearest-resized labels, the tap indices of a kxk
window, the pixels whose window holds one label): the SPADE norms of a block, the kernel predictors
of a CC-FPSE block all reuse one.

``LabelMap.of(semantics, num_classes)`` is the one check per forward (one host synchronisation);
it returns None, and callers run the reference computation, when the first ``num_classes``
channels are not exactly one-hot (soft labels, label noise, position priors) or when the map needs
a gradient.
"""
import torch
import torch.nn.functional as F

from ..models.discriminators.base import image_groups
from ..models.dispatch import current_context, label_channels
from ..models.ops.resize import nearest_select
from ..paths import fast_paths_enabled
from .scatter import ScatterAdd


def one_hot_labels(channels):
    """The labels [N, H, W] of a one-hot map [N, L, H, W], or None when it is not one-hot.

    One-hot: every value in [0, 1], the largest value of every pixel 1 and the pixel's sum 1 (so
    the other values, non-negative and summing to 0, are 0). Four passes over the map and one
    host sync. On the CPU the label is then ``sum_l l * channels[:, l]``, a sum of one integer and
    zeros, as one product with [0, 1, .., L-1]: the index of the maximum over the channel axis (a
    strided reduction) took 25-45 ms per 151-class 256x256 map there, the product 1.5 ms."""
    low, high = torch.aminmax(channels)
    ok = (low >= 0) & (high <= 1) & (channels.amax(1) == 1).all() & (channels.sum(1) == 1).all()
    if not bool(ok):
        return None
    if channels.device.type != 'cpu':
        return channels.argmax(1)
    n, num = channels.shape[:2]
    dtype = torch.promote_types(channels.dtype, torch.float32)  # exact integers up to 2**24
    index = torch.arange(num, dtype=dtype)
    with torch.autocast('cpu', enabled=False):
        labels = torch.matmul(index, channels.reshape(n, num, -1).to(dtype))
    # round: a map that passes the check with values within rounding of 0 and 1 gives its label to rounding
    return labels.round_().long().view(n, *channels.shape[2:])


class LabelMap:
    """Labels ``[N, H, W]`` (int64, < num_classes) of the one-hot channels, and ``extra`` ``[N, E, H, W]``:
    the channels after them (instance edges), or None."""

    def __init__(self, labels, extra, num_classes):
        self.labels, self.extra, self.num_classes = labels, extra, num_classes
        self.size = tuple(labels.shape[1:])
        self._resized = {}
        self._cache = {}

    @classmethod
    def of(cls, semantics, num_classes):
        if semantics.dim() != 4 or semantics.requires_grad or not semantics.is_floating_point():
            return None
        if not 0 < num_classes <= semantics.shape[1]:
            return None
        labels = one_hot_labels(semantics[:, :num_classes])
        if labels is None:
            return None
        extra = semantics[:, num_classes:] if semantics.shape[1] > num_classes else None
        return cls(labels, extra, num_classes)

    @property
    def channels(self):
        return self.num_classes + (0 if self.extra is None else self.extra.shape[1])

    def at(self, size):
        """This map nearest-resized to ``size`` (cached: all layers at one resolution share it)."""
        size = tuple(int(s) for s in size)
        if size == self.size:
            return self
        if size not in self._resized:
            # the pixels the resized one-hot map holds (ops/resize.py)
            extra = None if self.extra is None else nearest_select(self.extra, size)
            self._resized[size] = LabelMap(nearest_select(self.labels, size), extra, self.num_classes)
        return self._resized[size]

    def cached(self, key, build):
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    # -- what the label convolutions index with ---------------------------------------------------
    def taps(self, k, pixels=None, stride=1, padding=None):
        """(index, scatter) of a kxk tap-table gather (ops/label_conv.py) at every output pixel of a
        convolution with ``stride`` and zero ``padding`` (default k // 2: the map's own size at stride
        1), or at the flat output pixels ``pixels = (name, index into N*H*W)`` (cached under that
        name). ``index`` [M, k*k]: for tap t = (i, j) row-major the table row ``t * (num_classes + 1)
        + label under the tap``, outside the map the tap's zero row ``t * (num_classes + 1) +
        num_classes``; ``scatter`` the backward's scatter-add (zero rows left out)."""
        stride_rows = self.num_classes + 1
        p = k // 2 if padding is None else padding
        geometry = (k, stride, p)

        def build_all():
            (oh, ow), s = self.output_size(k, stride, p), stride
            padded = F.pad(self.labels, (p, p, p, p), value=self.num_classes)
            taps = [padded[:, i:i + s * (oh - 1) + 1:s, j:j + s * (ow - 1) + 1:s] + (i * k + j) * stride_rows
                    for i in range(k) for j in range(k)]
            return torch.stack(taps, dim=-1).reshape(-1, k * k)

        def with_scatter(index):
            return index, ScatterAdd(index, k * k * stride_rows, keep=index % stride_rows != self.num_classes,
                                     blocks=k * k)

        if pixels is None:
            return self.cached(('taps', geometry), lambda: with_scatter(build_all()))
        name, flat = pixels
        index = self.cached(('tap_index', geometry), build_all)
        return self.cached(('taps', geometry, name), lambda: with_scatter(index.index_select(0, flat)))

    def output_size(self, k, stride=1, padding=None):
        """(H', W') of a kxk convolution of this map with ``stride`` and ``padding`` (default k // 2)."""
        p = k // 2 if padding is None else padding
        return tuple((size + 2 * p - k) // stride + 1 for size in self.size)

    def repeat(self, times):
        """This map for a batch of ``times`` stacked copies of its batch (no check again)."""
        if times == 1:
            return self
        extra = None if self.extra is None else self.extra.repeat(times, 1, 1, 1)
        return LabelMap(self.labels.repeat(times, 1, 1), extra, self.num_classes)

    def block_means(self, block, dtype=torch.float32):
        """[N, L + E, H // block, W // block]: ``F.avg_pool2d(one-hot map with its extra channels, block)``
        (float rounding apart), the one-hot part as each block's label counts / block**2 (a bincount)."""
        n, (h, w), nc = self.labels.shape[0], self.size, self.num_classes
        hb, wb = h // block, w // block
        labels = self.labels[:, :hb * block, :wb * block]
        rows = torch.arange(hb, device=labels.device).repeat_interleave(block)
        cols = torch.arange(wb, device=labels.device).repeat_interleave(block)
        cell = rows[:, None] * wb + cols[None, :]                       # the block of every pixel
        image = torch.arange(n, device=labels.device)[:, None, None] * nc
        bins = (image + labels) * (hb * wb) + cell
        counts = torch.bincount(bins.reshape(-1), minlength=n * nc * hb * wb)
        means = counts.view(n, nc, hb, wb).to(dtype) / block ** 2
        if self.extra is None:
            return means
        return torch.cat([means, F.avg_pool2d(self.extra.to(dtype), block)], dim=1)

    def uniform(self, radius):
        """[N, H, W] bool: pixels whose (2*radius+1)^2 window lies inside the map, holds one label and
        no nonzero extra channel (there a stack of convolutions of total reach ``radius`` sees a
        constant input)."""
        def build():
            n, (h, w), k = self.labels.shape[0], self.size, 2 * radius + 1
            inside = torch.zeros(n, h, w, dtype=torch.bool, device=self.labels.device)
            inside[:, radius:h - radius, radius:w - radius] = True
            if h < k or w < k:
                return inside
            lab = self.labels[:, None].float()
            same = F.max_pool2d(lab, k, 1, radius) == -F.max_pool2d(-lab, k, 1, radius)
            keep = inside & same[:, 0]
            if self.extra is not None:
                busy = (self.extra != 0).any(1, keepdim=True).float()
                keep &= F.max_pool2d(busy, k, 1, radius)[:, 0] == 0
            return keep
        return self.cached(('uniform', radius), build)


def context_labels(context, semantics):
    """The LabelMap of ``semantics`` when it is the input of the open forward context (checked once
    per forward and shared), else None."""
    if context is None or context.semantics is not semantics or not fast_paths_enabled(semantics):
        return None
    return context.cached('labels', lambda: LabelMap.of(semantics, context.label_channels))


def generator_labels(semantics, opt):
    """The LabelMap of a generator's input on the fast paths (None on the reference path, or when the
    label channels, all but the instance-edge channel, are not one-hot); shared with the open
    forward context when ``semantics`` is its input."""
    if not fast_paths_enabled(semantics):
        return None
    context = current_context()
    if context is not None and context.semantics is semantics and context.label_channels == label_channels(opt):
        return context_labels(context, semantics)
    return LabelMap.of(semantics, label_channels(opt))


def discriminator_labels(images, semantics, opt):
    """The LabelMap of a discriminator's label maps for all of ``images``: ``semantics`` holds one map
    per image or per group of images (fake and real share theirs); where its two halves are the same
    maps, one per image, the one-hot check runs on the first half. None where the kernels do not run
    on the maps' device, or the label channels are not one-hot (or need a gradient)."""
    if not fast_paths_enabled(semantics):
        return None
    n = semantics.shape[0]
    if n == images.shape[0] and n % 2 == 0 and not semantics.requires_grad \
            and torch.equal(semantics[:n // 2], semantics[n // 2:]):
        semantics = semantics[:n // 2]
    labels = LabelMap.of(semantics, label_channels(opt))
    return None if labels is None else labels.repeat(image_groups(images, semantics))
