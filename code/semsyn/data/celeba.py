"""CelebAMask-HQ as SCGAN's celeba mode: 1024 photos, 512 masks; raw 1..18 -> class 0..17 and
background 0 -> dontcare 18."""
import os

from ..errors import UserError
from .base import PairedDataset, shift_zero_to_dontcare


class CelebADataset(PairedDataset):
    has_instances = False
    layout = ('<dataroot>/CelebA-HQ-img/<id>.jpg, <dataroot>/CelebAMaskHQ-mask/<id>.png and '
              '<dataroot>/{train,test}_list.txt with one <id>.jpg per line')

    def get_paths(self, opt):
        list_file = os.path.join(opt.dataroot, 'train_list.txt' if opt.phase == 'train' else 'test_list.txt')
        try:
            with open(list_file) as f:
                ids = [line.strip().split('.')[0] for line in f if line.strip()]
        except OSError as exc:
            raise UserError(f'cannot read the celeba id list {list_file} ({exc.strerror}); expected '
                            f'{self.layout}') from None
        if not ids:
            raise UserError(f'the celeba id list {list_file} is empty; expected {self.layout}')
        images = [os.path.join(opt.dataroot, 'CelebA-HQ-img', i + '.jpg') for i in ids]
        labels = [os.path.join(opt.dataroot, 'CelebAMaskHQ-mask', i + '.png') for i in ids]
        for path in (p for pair in zip(labels, images) for p in pair):
            if not os.path.isfile(path):
                raise UserError(f'{path} (listed in {list_file}) not found; expected {self.layout}')
        return labels, images, []

    @staticmethod
    def map_labels(label, opt):
        return shift_zero_to_dontcare(label, opt.label_nc)
