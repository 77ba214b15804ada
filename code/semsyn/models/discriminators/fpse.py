"""CC-FPSE's feature-pyramid semantics-embedding discriminator (``FPSEDiscriminator``), same names.

Five stride-2 encoder levels on the image, a top-down path (1x1 laterals, bilinear upsampling),
three output scales; each scale's score is a patch real/fake logit plus the semantic-embedding term:
the inner product of per-pixel features with the projected, average-pooled label map.
"""
import torch.nn as nn
import torch.nn.functional as F

from ..ops import get_nonspade_norm_layer
from .base import Discriminator, maps_per_image


class FPSEDiscriminator(Discriminator):
    """forward(fake_and_real_img, segmap) -> [features (4, bottom-up), predictions (3, fine to coarse)];
    ``segmap`` the one-hot label map of every image."""

    METHOD = 'CC-FPSE'
    MIN_CROP = 64  # its five stride-2 levels end at crop/32, which instance norm needs larger than 1x1

    def __init__(self, opt):
        super().__init__()
        self.opt = opt
        nf = opt.ndf
        norm_layer = get_nonspade_norm_layer(opt.norm_D_spec)

        def block(cin, cout, ks, stride=1):
            return nn.Sequential(norm_layer(nn.Conv2d(cin, cout, kernel_size=ks, stride=stride, padding=ks // 2)),
                                 nn.LeakyReLU(0.2, True))

        # bottom-up pathway
        self.enc1 = block(opt.output_nc, nf, 3, 2)
        self.enc2 = block(nf, nf * 2, 3, 2)
        self.enc3 = block(nf * 2, nf * 4, 3, 2)
        self.enc4 = block(nf * 4, nf * 8, 3, 2)
        self.enc5 = block(nf * 8, nf * 8, 3, 2)
        # top-down pathway
        self.lat2 = block(nf * 2, nf * 4, 1)
        self.lat3 = block(nf * 4, nf * 4, 1)
        self.lat4 = block(nf * 8, nf * 4, 1)
        self.lat5 = block(nf * 8, nf * 4, 1)
        self.up = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False)
        # final layers
        self.final2 = block(nf * 4, nf * 2, 3)
        self.final3 = block(nf * 4, nf * 2, 3)
        self.final4 = block(nf * 4, nf * 2, 3)
        # real/fake and semantic-alignment predictions
        self.tf = nn.Conv2d(nf * 2, 1, kernel_size=1)
        self.seg = nn.Conv2d(nf * 2, nf * 2, kernel_size=1)
        self.embedding = nn.Conv2d(opt.semantic_nc, nf * 2, kernel_size=1)

    def forward(self, fake_and_real_img, segmap):
        segmap = maps_per_image(fake_and_real_img, segmap)  # (the model wrapper passes one map per group)
        feats, finals = self.pyramid(fake_and_real_img)
        return [feats, self.predictions(finals, self.embedded_quarter(segmap))]

    def pyramid(self, image):
        """(encoder features 2-5, the three final maps, fine to coarse)."""
        feat11 = self.enc1(image)
        feat12 = self.enc2(feat11)
        feat13 = self.enc3(feat12)
        feat14 = self.enc4(feat13)
        feat15 = self.enc5(feat14)
        feat25 = self.lat5(feat15)
        feat24 = self.up(feat25) + self.lat4(feat14)
        feat23 = self.up(feat24) + self.lat3(feat13)
        feat22 = self.up(feat23) + self.lat2(feat12)
        finals = [self.final2(feat22), self.final3(feat23), self.final4(feat24)]
        return [feat12, feat13, feat14, feat15], finals

    def embedded_quarter(self, segmap):
        """The projected label map average-pooled by 2, twice (to a quarter of the size)."""
        segemb = F.avg_pool2d(self.embedding(segmap), kernel_size=2, stride=2)
        return F.avg_pool2d(segemb, kernel_size=2, stride=2)

    def predictions(self, finals, segemb):
        """Per scale: real/fake logit + <features, embedded label map>, the embedding pooled by 2 per scale."""
        preds = []
        for k, feat in enumerate(finals):
            if k:
                segemb = F.avg_pool2d(segemb, 2, 2)
            preds.append(self.tf(feat) + (segemb * self.seg(feat)).sum(dim=1, keepdim=True))
        return preds

    def inputs(self, images, semantics):
        """(images, their label maps, one per group: fake and real share theirs)."""
        return images, semantics

    def predictions_and_features(self, out):
        """(score maps, feature-matching groups): each feature is its own group, so feature matching
        weighs each by lambda_feat / number of features."""
        feats, preds = out
        return preds, [[f] for f in feats]
