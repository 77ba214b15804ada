"""What the page offers for models of other datasets (no model needed): the classes, their colours and
names, the eraser's class, the examples."""
from argparse import Namespace

import numpy as np
import pytest

from semsyn.app.classes import palette_classes
from semsyn.app.examples import example_ids, examples_kind
from semsyn.data import DATASETS
from semsyn.data.base import prepare_label
from semsyn.data.palette import builtin
from semsyn.errors import UserError


def options(dataset_mode, label_nc, dontcare=False, **extra):
    return Namespace(dataset_mode=dataset_mode, label_nc=label_nc, contain_dontcare_label=dontcare, seed=0,
                     synthetic_size=4, phase='test', crop_size=32, aspect_ratio=1.0, max_dataset_size=10,
                     no_flip=True, ade20k_raw_labels=False, **extra)


class LabelsOnly:
    """What the examples need of a Synthesizer: its options, its size, the dataset's label mapping."""

    def __init__(self, opt, size):
        self.opt, self.size = opt, size

    def class_ids(self, values):
        return prepare_label(values, 'example', self.opt, getattr(DATASETS[self.opt.dataset_mode], 'map_labels', None))


def test_the_eraser_paints_dontcare_where_the_model_has_it():
    offered = palette_classes(options('coco', 182, dontcare=True))
    assert [c['id'] for c in offered['classes']] == list(range(182))
    assert offered['classes'][5]['name'] == 'class 5'
    eraser = offered['eraser']
    assert (eraser['id'], eraser['dontcare'], eraser['name']) == (182, True, 'dontcare')
    palette = builtin('semsyn', 182, 'coco')
    rgb = tuple(int(eraser['colour'][i:i + 2], 16) for i in (1, 3, 5))
    assert palette.to_ids(np.array([[rgb]], np.uint8))[0, 0] == 182  # the colour reads back as dontcare


def test_a_colour_with_two_ids_offers_the_first():
    offered = palette_classes(options('cityscapes', 35))
    ids = [c['id'] for c in offered['classes']]
    assert 0 in ids and not {1, 2, 3, 4, 18, 34} & set(ids)  # void classes share black; polegroup, plate repeat
    names = {c['id']: c['name'] for c in offered['classes']}
    assert (names[7], names[23], names[26]) == ('road', 'sky', 'car')
    assert offered['eraser']['id'] == 0 and offered['eraser']['dontcare'] is False
    assert len({c['colour'] for c in offered['classes']}) == len(ids)


def test_a_names_file(tmp_path):
    names = tmp_path / 'names.txt'
    names.write_text('water\n\nstone\n')
    offered = palette_classes(options('custom', 4), str(names))
    assert [c['name'] for c in offered['classes']] == ['water', 'class 1', 'stone', 'class 3']
    names.write_text('a\nb\nc\nd\ne\n')
    with pytest.raises(UserError, match='5 lines'):
        palette_classes(options('custom', 4), str(names))
    with pytest.raises(UserError, match='cannot read'):
        palette_classes(options('custom', 4), str(tmp_path / 'none.txt'))


@pytest.mark.parametrize('dataset_mode,label_nc,dontcare,raw,present', [
    ('cityscapes', 35, False, False, {23, 11, 7}),  # sky, building, road
    ('ade20k', 150, True, False, {2, 16}),  # sky, mountain: annotation values 3, 17 minus one
    ('ade20k', 151, False, True, {3, 17}),  # SCGAN's raw annotation values
    ('coco', 182, True, False, None),  # random classes
    ('synthetic', 6, False, False, None),
])
def test_examples_fit_the_model(dataset_mode, label_nc, dontcare, raw, present):
    opt = options(dataset_mode, label_nc, dontcare)
    opt.ade20k_raw_labels = raw
    model = LabelsOnly(opt, (40, 24))
    opt.crop_size, opt.aspect_ratio = 40, 40 / 24
    first, again, other = example_ids(model, 0), example_ids(model, 0), example_ids(model, 1)
    assert first.shape == (24, 40) and first.min() >= 0 and first.max() < label_nc + dontcare
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    if present:
        assert present <= set(np.unique(first).tolist())
    assert examples_kind(opt)
