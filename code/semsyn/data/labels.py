"""Label maps alone (test.py --label_dir DIR without --image_dir): synthesis from the user's own label
maps, no photos needed.

A label map holds the values the label files of the model's dataset hold (``--dataset_mode``; e.g.
ADE20K annotation values, COCO-Stuff ids with 255 unlabeled), or colours of ``--label_palette``. Each
goes through the dataset's own label mapping and preprocessing, as a test image's label would.
Without ``--instance_dir``, a model that takes instance edges gets the edges between the label map's
classes.
"""
from argparse import Namespace

import numpy as np
import torch

from ..errors import UserError
from .base import SeededDataset, check_size, dontcare_id, prepare_label
from .files import list_images, natural_sort, require_dir
from .io import read_map
from .pairing import check_pairs, stem
from .palette import load_palette, read_colour_map
from .transforms import get_params, transform_map


class LabelFolderDataset(SeededDataset):
    layout = 'single-channel label maps (or colour ones with --label_palette), any size'

    def __init__(self, opt: Namespace, map_labels=None):
        super().__init__(opt)
        self.map_labels = map_labels
        require_dir(opt.label_dir, f'--label_dir: a folder of {self.layout}')
        self.label_paths = natural_sort(list_images(opt.label_dir))
        if not self.label_paths:
            raise UserError(f'--label_dir {opt.label_dir}: no label maps (png, jpg, ...) in it')
        self.instance_paths = []
        if opt.instance_dir and not opt.no_instance:
            require_dir(opt.instance_dir, '--instance_dir: a folder of instance maps named as the label maps')
            self.instance_paths = natural_sort(list_images(opt.instance_dir))
            check_pairs(self.label_paths, self.instance_paths, stem, 'instance map', not opt.no_pairing_check)
        self.palette = load_palette(opt.label_palette, opt.label_nc, opt.dataset_mode) if opt.label_palette else None
        n = min(len(self.label_paths), opt.max_dataset_size)
        self.label_paths = self.label_paths[:n]

    def __len__(self):
        return len(self.label_paths)

    def read_label(self, path):
        """Class ids of the label map at path, at its own resolution."""
        if self.palette is None:
            return prepare_label(read_map(path, 'label map', 'class ids'), path, self.opt, self.map_labels)
        values = read_colour_map(path, self.palette)
        return prepare_label(values, path, self.opt, None if self.palette.model_ids else self.map_labels)

    def __getitem__(self, index):
        opt, path = self.opt, self.label_paths[index]
        label = self.read_label(path)
        size = (label.shape[1], label.shape[0])
        params = get_params(opt, size, self.rng(index))
        fill = dontcare_id(opt)
        item = {'label': transform_map(label, opt, params, fill=fill), 'path': path}
        if opt.no_instance:
            item['instance'] = torch.tensor(0)
        elif self.instance_paths:
            instance = read_map(self.instance_paths[index], 'instance map', 'instance ids')
            check_size(instance, self.instance_paths[index], size, path)
            item['instance'] = transform_map(instance, opt, params)
        else:  # the boundaries between classes stand in for the instance boundaries
            item['instance'] = transform_map(np.ascontiguousarray(label), opt, params)
        return item


def is_label_only(opt):
    """test.py with --label_dir and no --image_dir synthesizes the label maps alone."""
    return not opt.isTrain and bool(opt.label_dir) and not opt.image_dir
