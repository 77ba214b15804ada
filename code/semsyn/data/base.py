"""Base classes: seeded augmentation per (seed, epoch, index), and SPADE's paired dataset of
label maps, photos and instance maps on disk (Pix2pixDataset)."""
from argparse import Namespace

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import UserError
from .files import list_images, natural_sort, require_dir
from .io import jpeg_hint, read_image, read_map
from .pairing import check_pairs, stem
from .transforms import get_params, params_rng, transform_image, transform_map

DONTCARE_VALUE = 255  # raw label value of unlabeled pixels (coco-stuff); becomes class label_nc


class SeededDataset(Dataset):
    """Augmentation params drawn from (opt.seed, epoch, index), so a resumed epoch replays exactly.

    Call set_epoch(epoch) before each epoch; DataLoader workers see it only if they are started
    after the call (i.e. not persistent_workers).
    """

    def __init__(self, opt: Namespace):
        self.opt = opt
        self.epoch = 0

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def rng(self, index):
        return params_rng(self.opt.seed, self.epoch, index)


class PairedDataset(SeededDataset):
    """Label maps paired with photos (and instance maps unless --no_instance).

    Subclasses give the file lists (get_paths) and, where needed, a label postprocess and a
    pairing key. Items: {'label': LongTensor [1,H,W], 'instance': LongTensor [1,H,W] or tensor(0),
    'image': FloatTensor [3,H,W] in [-1,1], 'path': photo path}.
    """

    layout = 'a dataset folder'  # expected layout, for error messages
    has_instances = True  # False where the format has no instance maps (ade20k, celeba)
    needs_dataroot = True  # False where the folders are options of their own (custom)

    def __init__(self, opt: Namespace):
        super().__init__(opt)
        if self.needs_dataroot and not opt.dataroot:
            raise UserError(f'--dataset_mode {opt.dataset_mode} needs --dataroot: a folder with {self.layout} (or '
                            f'try --dataset_mode synthetic, built in)')
        if not opt.no_instance and not self.has_instances:
            raise UserError(f'--dataset_mode {opt.dataset_mode} has no instance maps; pass --no_instance')
        labels, images, instances = self.get_paths(opt)
        labels, images = natural_sort(labels), natural_sort(images)
        instances = natural_sort(instances) if not opt.no_instance else []
        check_pairs(labels, images, self.pair_key, 'image', check_names=not opt.no_pairing_check)
        if not opt.no_instance:
            check_pairs(labels, instances, self.pair_key, 'instance map', check_names=not opt.no_pairing_check)
        labels, images, instances = self.select_pairs(labels, images, instances)
        n = min(len(labels), opt.max_dataset_size)
        self.label_paths, self.image_paths, self.instance_paths = labels[:n], images[:n], instances[:n]

    # ---- hooks for subclasses -----------------------------------------------------------------

    def get_paths(self, opt):
        """(label paths, image paths, instance paths); instance paths may be [] with --no_instance."""
        raise NotImplementedError

    def pair_key(self, path):
        return stem(path)

    @staticmethod
    def map_labels(label, opt):
        """Dataset-specific mapping of the values of its label files (int64 array) to class ids."""
        return label

    def select_pairs(self, labels, images, instances):
        """Drop pairs after the pairing check (coco: portraits); default keeps all."""
        return labels, images, instances

    # ---- shared helpers -----------------------------------------------------------------------

    def list_folder(self, folder, what):
        """Images under folder; UserError naming it and the layout if it is missing or empty."""
        require_dir(folder, self.layout)
        paths = list_images(folder, read_cache=self.opt.cache_filelist_read,
                            write_cache=self.opt.cache_filelist_write)
        return self.require_files(paths, folder, what)

    def require_files(self, paths, folder, what):
        if not paths:
            raise UserError(f'no {what} found in {folder}; expected {self.layout}')
        return paths

    def prepare_label(self, raw, path):
        return prepare_label(raw, path, self.opt, self.map_labels)

    # ---- Dataset ------------------------------------------------------------------------------

    def __len__(self):
        return len(self.label_paths)

    def __getitem__(self, index):
        opt = self.opt
        label_path, image_path = self.label_paths[index], self.image_paths[index]
        image = read_image(image_path)
        label = self.prepare_label(read_map(label_path, 'label map', 'class ids'), label_path)
        check_size(label, label_path, image.size, image_path)
        params = get_params(opt, image.size, self.rng(index))
        fill = dontcare_id(opt)
        item = {'label': transform_map(label, opt, params, fill=fill)}
        if opt.no_instance:
            item['instance'] = torch.tensor(0)
        else:
            inst_path = self.instance_paths[index]
            instance = read_map(inst_path, 'instance map', 'instance ids')
            check_size(instance, inst_path, image.size, image_path)
            item['instance'] = transform_map(instance, opt, params)
        item['image'] = transform_image(image, opt, params)
        item['path'] = image_path
        return item


def dontcare_id(opt):
    """The class id of dontcare pixels (and of padding): label_nc, or 0 with --dontcare_first; without
    a dontcare label, 0."""
    if not opt.contain_dontcare_label or getattr(opt, 'dontcare_first', False):
        return 0
    return opt.label_nc


def num_classes(opt):
    return opt.label_nc + (1 if opt.contain_dontcare_label else 0)


def prepare_label(raw, path, opt, map_labels=None):
    """Values of a label file -> class ids: 255 -> label_nc (dontcare), the dataset's mapping (None: the
    values are class ids already), range check. Checked at the file's own resolution, before any
    resizing, so the file is what is reported."""
    dontcare = raw == DONTCARE_VALUE
    label = map_labels(raw.copy(), opt) if map_labels is not None else raw.copy()
    # 255 is dontcare whatever the mapping does (SPADE's ade20k would turn it into 149).
    label[dontcare] = opt.label_nc
    bad = (label < 0) | (label >= num_classes(opt))
    if bad.any():
        values = np.unique(raw[bad])
        shown = ', '.join(str(v) for v in values[:5]) + (', ...' if len(values) > 5 else '')
        dc = 'with' if opt.contain_dontcare_label else 'without'
        raise LabelRangeError(f'label map {path} has values outside the expected range: {shown} (class ids '
                              f'must be in [0, {num_classes(opt)}) for --label_nc {opt.label_nc} {dc} '
                              f'--contain_dontcare_label, after the {opt.dataset_mode} label mapping)'
                              f'{jpeg_hint(path)}', [int(v) for v in values], opt,
                              mapped=map_labels is not None and map_labels is not PairedDataset.map_labels)
    if getattr(opt, 'dontcare_first', False):  # OASIS's order: dontcare channel 0, class k channel k + 1
        label = (label + 1) % (opt.label_nc + 1)
    return label


class LabelRangeError(UserError):
    """A label map with values that name no class of the model. The message says it in the options'
    words; ``values``, ``label_nc``, ``dontcare``, ``dataset_mode`` and ``mapped`` (the values go
    through the dataset's label mapping) let a page say it in its own."""

    def __init__(self, message, values, opt, mapped):
        super().__init__(message)
        self.values, self.mapped = values, mapped
        self.label_nc, self.dontcare, self.dataset_mode = opt.label_nc, opt.contain_dontcare_label, opt.dataset_mode


def shift_zero_to_dontcare(label, label_nc):
    """Raw 1..label_nc -> class 0..label_nc-1 and raw 0 ("other"/background) -> dontcare label_nc
    (SPADE's ade20k postprocess, SCGAN's celeba)."""
    out = label - 1
    out[label == 0] = label_nc
    # Raw label_nc + 1 would become label_nc and pass as dontcare; mark it out of range instead.
    out[label > label_nc] = -1
    return out


def check_size(arr, path, image_size, image_path):
    """A map may have another resolution than its photo (it is resized), not another shape."""
    h, w = arr.shape
    iw, ih = image_size
    if (w, h) != (iw, ih) and abs(w * ih - h * iw) > 0.01 * w * ih:
        raise UserError(f'{path} is {w}x{h} but its image {image_path} is {iw}x{ih}; expected the same size '
                        f'(or at least the same aspect ratio)')
