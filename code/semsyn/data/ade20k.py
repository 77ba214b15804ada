"""ADE20K (ADEChallengeData2016): raw 1..150 -> class 0..149, raw 0 ("other") -> dontcare 150 (SPADE);
with --ade20k_raw_labels raw k -> class k (SCGAN)."""
import os

from .base import PairedDataset, shift_zero_to_dontcare

SPLITS = {'train': 'training', 'val': 'validation', 'test': 'validation'}


class ADE20KDataset(PairedDataset):
    has_instances = False
    layout = ('<dataroot>/images/{training,validation}/ADE_*.jpg and <dataroot>/annotations/'
              '{training,validation}/ADE_*.png (--phase train reads training, val/test read validation)')

    def get_paths(self, opt):
        split = SPLITS.get(opt.phase, opt.phase)
        images = self.list_folder(os.path.join(opt.dataroot, 'images', split), 'images')
        labels = self.list_folder(os.path.join(opt.dataroot, 'annotations', split), 'label maps')
        return labels, images, []

    @staticmethod
    def map_labels(label, opt):
        # SPADE's ade20k postprocess; SCGAN comments it out, so its checkpoints expect raw ids
        if opt.ade20k_raw_labels:
            return label
        return shift_zero_to_dontcare(label, opt.label_nc)
