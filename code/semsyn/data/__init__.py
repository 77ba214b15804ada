"""Datasets of label maps and photos: ``create_dataset(opt)`` builds the one of ``opt.dataset_mode``.

Every item is a dict: 'label' LongTensor [1,H,W] of class ids in [0, label_nc + dontcare),
'instance' LongTensor [1,H,W] of instance ids (torch.tensor(0) with --no_instance), 'image'
FloatTensor [3,H,W] in [-1,1], 'path' str. Datasets have set_epoch(epoch) for the augmentation seed.
"""
from argparse import Namespace

from torch.utils.data import Dataset

from ..errors import UserError
from .ade20k import ADE20KDataset
from .base import PairedDataset, SeededDataset
from .celeba import CelebADataset
from .cityscapes import CityscapesDataset
from .coco import CocoDataset
from .custom import CustomDataset
from .labels import LabelFolderDataset, is_label_only
from .synthetic import SyntheticDataset

DATASETS = {
    'coco': CocoDataset,
    'ade20k': ADE20KDataset,
    'cityscapes': CityscapesDataset,
    'celeba': CelebADataset,
    'custom': CustomDataset,
    'synthetic': SyntheticDataset,
}

__all__ = (['create_dataset', 'DATASETS', 'LabelFolderDataset', 'PairedDataset', 'SeededDataset']
           + [c.__name__ for c in DATASETS.values()])


def create_dataset(opt: Namespace) -> Dataset:
    """The torch Dataset for opt.dataset_mode, built from the options namespace."""
    cls = DATASETS.get(opt.dataset_mode)
    if cls is None:
        raise UserError(f"--dataset_mode must be one of {', '.join(DATASETS)}; got {opt.dataset_mode!r}")
    if is_label_only(opt):  # test.py on the user's own label maps: the dataset's label convention
        return LabelFolderDataset(opt, getattr(cls, 'map_labels', None))
    return cls(opt)
