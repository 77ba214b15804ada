"""COCO-Stuff in SPADE's layout: <dataroot>/<phase>_{label,img,inst}/ (label_nc 182, 255 = dontcare)."""
import os

from .base import PairedDataset
from .io import image_size


class CocoDataset(PairedDataset):
    layout = ('<dataroot>/<phase>_label/*.png, <dataroot>/<phase>_img/*.jpg and <dataroot>/<phase>_inst/*.png '
              '(phase val for --phase test)')

    def get_paths(self, opt):
        phase = 'val' if opt.phase == 'test' else opt.phase
        kinds = ['label', 'img'] + ([] if opt.no_instance else ['inst'])
        what = {'label': 'label maps', 'img': 'images', 'inst': 'instance maps'}
        lists = []
        for kind in kinds:
            paths = self.list_folder(os.path.join(opt.dataroot, f'{phase}_{kind}'), what[kind])
            # SPADE keeps portrait images in <phase>_<kind>_portrait folders, used in training only.
            portrait = os.path.join(opt.dataroot, f'{phase}_{kind}_portrait')
            if opt.isTrain and not opt.coco_no_portraits and os.path.isdir(portrait):
                paths = paths + self.list_folder(portrait, what[kind])
            lists.append(paths)
        return lists[0], lists[1], lists[2] if len(lists) > 2 else []

    def select_pairs(self, labels, images, instances):
        """--coco_no_portraits: also drop portrait (taller than wide) images of the main folders."""
        if not self.opt.coco_no_portraits:
            return labels, images, instances
        keep = []
        for i, path in enumerate(images):
            if len(keep) >= self.opt.max_dataset_size:
                break  # only read the headers of the pairs that will be used
            w, h = image_size(path)
            if w >= h:
                keep.append(i)
        return ([labels[i] for i in keep], [images[i] for i in keep],
                [instances[i] for i in keep] if instances else [])
