"""CC-FPSE's discriminator (models/discriminators/fpse.py) where its label map is one-hot.

Its label projection is a 1x1 convolution, average-pooled twice before its first use. Pooling and
a 1x1 convolution commute, so the one-hot map is pooled first, as each 4x4 block's label counts (a
bincount, ``LabelMap.block_means``), then projected: the same values for 1/16 of the projection's
work and none of its full-resolution maps. Fake and real images share their maps: where the two
halves of the batch's maps are equal (or one map per pair is given), the one-hot check runs on one
half.
"""
import torch

from ..models.discriminators.base import image_groups
from ..models.discriminators.fpse import FPSEDiscriminator
from ..models.dispatch import label_channels, register
from ..paths import fast_paths_enabled
from .label_map import LabelMap


def shared_label_map(images, segmap, num_classes):
    """The LabelMap of ``segmap`` (one map per image, or per group of images: fake and real share
    theirs) for all of ``images`` (None where it is not one-hot or needs a gradient); where the
    halves of a map per image are the same maps, checked for the first half only."""
    n = segmap.shape[0]
    if n == images.shape[0] and n % 2 == 0 and not segmap.requires_grad \
            and torch.equal(segmap[:n // 2], segmap[n // 2:]):
        segmap = segmap[:n // 2]
    labels = LabelMap.of(segmap, num_classes)
    return None if labels is None else labels.repeat(image_groups(images, segmap))


def applies(net, context, fake_and_real_img, segmap):
    return fast_paths_enabled(segmap)


def run(net, context, fake_and_real_img, segmap):
    labels = shared_label_map(fake_and_real_img, segmap, label_channels(net.opt))
    if labels is None:
        return net.forward(fake_and_real_img, segmap)
    feats, finals = net.pyramid(fake_and_real_img)
    segemb = net.embedding(labels.block_means(4, net.embedding.weight.dtype))
    return [feats, net.predictions(finals, segemb)]


register(FPSEDiscriminator, applies, run)
