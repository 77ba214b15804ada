"""Cityscapes in its own layout: leftImg8bit/<phase>/<city>/ photos, gtFine/<phase>/<city>/ labelIds
(0..33, label_nc 35) and 16-bit instanceIds (up to 33001)."""
import os

from .base import PairedDataset


class CityscapesDataset(PairedDataset):
    layout = ('<dataroot>/leftImg8bit/<phase>/<city>/*_leftImg8bit.png and <dataroot>/gtFine/<phase>/<city>/'
              '*_gtFine_labelIds.png, *_gtFine_instanceIds.png (phase val for --phase test)')

    def get_paths(self, opt):
        phase = 'val' if opt.phase == 'test' else opt.phase
        label_dir = os.path.join(opt.dataroot, 'gtFine', phase)
        gt = self.list_folder(label_dir, 'label maps')
        labels = self.require_files([p for p in gt if p.endswith('_labelIds.png')], label_dir,
                                    '*_gtFine_labelIds.png label maps')
        instances = []
        if not opt.no_instance:
            instances = self.require_files([p for p in gt if p.endswith('_instanceIds.png')], label_dir,
                                           '*_gtFine_instanceIds.png instance maps')
        images = self.list_folder(os.path.join(opt.dataroot, 'leftImg8bit', phase), 'images')
        return labels, images, instances

    def pair_key(self, path):
        # aachen_000000_000019_leftImg8bit / _gtFine_labelIds: city, sequence and frame identify a pair.
        return '_'.join(os.path.basename(path).split('_')[:3])
