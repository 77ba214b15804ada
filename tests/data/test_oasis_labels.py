"""OASIS's label order: --dontcare_first puts COCO-Stuff's unlabeled 255 at class 0 and class k at
k + 1 (its loader's label * 255 + 1), in label_nc + 1 one-hot channels; ade20k with raw labels keeps
annotation 0 as class 0."""
import numpy as np

from semsyn.data.ade20k import ADE20KDataset
from semsyn.data.base import dontcare_id, prepare_label
from semsyn.data.coco import CocoDataset
from semsyn.options import make_options


def test_dontcare_first_is_oasis_coco_order():
    opt = make_options({'netG': 'oasis', 'dataset_mode': 'coco', 'dontcare_first': True})
    raw = np.array([[0, 5, 181, 255]], dtype=np.uint8)
    assert prepare_label(raw, 'x.png', opt, getattr(CocoDataset, 'map_labels', None)).tolist() == [[1, 6, 182, 0]]
    assert opt.semantic_nc == 183 and dontcare_id(opt) == 0
    spade = make_options({'dataset_mode': 'coco'})
    assert prepare_label(raw, 'x.png', spade).tolist() == [[0, 5, 181, 182]] and dontcare_id(spade) == 182


def test_ade20k_raw_labels_keep_zero_as_class_zero():
    opt = make_options({'netG': 'oasis', 'dataset_mode': 'ade20k', 'ade20k_raw_labels': True})
    raw = np.array([[0, 1, 150]], dtype=np.uint8)
    assert prepare_label(raw, 'x.png', opt, ADE20KDataset.map_labels).tolist() == [[0, 1, 150]]
    assert opt.semantic_nc == 151
