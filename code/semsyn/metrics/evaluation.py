"""FID/KID of a synthesis run: features of the synthesized (and, by default, the real) images are
collected batch by batch; the reference statistics come from --gt or from the real images."""
import copy

import numpy as np

from .. import distributed as dist
from .fid import FeatureExtractor, Stats, check_reference, compare, load_reference, quantize


class FIDEvaluator:
    """Collects Inception features of synthesized and real batches; ``result()`` compares them.

    The reference statistics are computed once and kept (training evaluates every --fid_epoch)."""

    def __init__(self, opt, device, missing_weights_hint=''):
        self.opt = opt
        if opt.gt:
            check_reference(opt.gt)  # before any image is synthesized
        self.extractor = FeatureExtractor(opt.fid_weights, device, opt.gpu_id_list, fallback_hint=missing_weights_hint)
        self.reference = None
        self.reset()

    def reset(self):
        self.fake, self.real = [], []

    def needs_real(self):
        return self.reference is None and not self.opt.gt

    def add(self, generated, real):
        """generated, real: [B, 3, H, W] in [-1, 1], quantized to 8 bits as the saved images are."""
        self.fake.append(self.extractor(quantize(generated)))
        if self.needs_real():
            self.real.append(self.extractor(quantize(real)))

    def gather(self):
        """Under torchrun: the features of every process's shard, on every process."""
        if dist.world_size() > 1:
            self.fake = [f for part in dist.gather_objects(self.fake) for f in part]
            self.real = [f for part in dist.gather_objects(self.real) for f in part]

    def reference_stats(self):
        if self.reference is None:
            if self.opt.gt:
                self.reference = load_reference(self.opt.gt, self.extractor, self.opt.fid_batch_size,
                                                self.opt.nThreads, self.opt.fid_cache_dir)
            else:
                self.reference = Stats.from_features(np.concatenate(self.real), 'real images of the test set')
        return self.reference

    def result(self):
        fake = Stats.from_features(np.concatenate(self.fake), 'synthesized images')
        result = compare(fake, self.reference_stats())
        result['reference'] = self.reference.source
        self.reset()
        return result


def validation_options(opt):
    """Options of the validation set synthesized during training: the test phase, no augmentation;
    with a crop mode, images are loaded at the crop size so the whole image is seen."""
    val = copy.deepcopy(opt)
    val.isTrain = False
    val.phase = 'test'
    val.serial_batches = True
    val.no_flip = True
    if 'crop' in val.preprocess_mode:
        val.load_size = val.crop_size
    return val


def format_result(result):
    text = f'FID: {result["fid"]:.4f}'
    if 'kid' in result:
        text += f'  KID: {result["kid"]:.5f} +- {result["kid_std"]:.5f}'
    return text
