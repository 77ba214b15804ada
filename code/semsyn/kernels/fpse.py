"""CC-FPSE's discriminator (models/discriminators/fpse.py) where its label map is one-hot.

Its label projection is a 1x1 convolution, average-pooled twice before its first use. Pooling and
a 1x1 convolution commute, so the one-hot map is pooled first, as each 4x4 block's label counts (a
bincount, ``LabelMap.block_means``), then projected: the same values for 1/16 of the projection's
work and none of its full-resolution maps. Fake and real images share their maps: where the two
halves of the batch's maps are equal (or one map per pair is given), the one-hot check runs on one
half.
"""

from ..models.discriminators.fpse import FPSEDiscriminator
from ..models.dispatch import register
from ..paths import fast_paths_enabled
from .label_map import discriminator_labels


def applies(net, context, fake_and_real_img, segmap):
    return fast_paths_enabled(segmap)


def run(net, context, fake_and_real_img, segmap):
    labels = discriminator_labels(fake_and_real_img, segmap, net.opt)
    if labels is None:
        return net.forward(fake_and_real_img, segmap)
    feats, finals = net.pyramid(fake_and_real_img)
    segemb = net.embedding(labels.block_means(4, net.embedding.weight.dtype))
    return [feats, net.predictions(finals, segemb)]


register(FPSEDiscriminator, applies, run)
