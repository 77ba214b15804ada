"""What the page offers for models of other datasets (no model needed): the classes, their colours and
names, the eraser's class, the examples."""
from argparse import Namespace

import numpy as np
import pytest
from PIL import Image

from semsyn import Synthesizer
from semsyn.app import PaintingApp
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


class NoisyLabelsOnly(LabelsOnly):
    """An OASIS model's stand-in for the page: no style encoder, a noise of its own; it records the seed."""
    has_noise = True

    def __init__(self, opt, size):
        super().__init__(opt, size)
        self.map_labels = getattr(DATASETS[opt.dataset_mode], 'map_labels', None)

    def class_ids(self, label, palette=None):
        return Synthesizer.class_ids(self, label, palette)

    def __call__(self, label, style=None, seed=None, palette=None, output_size='label'):
        self.given = self.class_ids(label, palette), seed
        return Image.new('RGB', self.size)


def oasis_options(dataset_mode, label_nc):
    """OASIS's label order (--dontcare_first: dontcare is channel 0, class k channel k + 1)."""
    return options(dataset_mode, label_nc, dontcare=True, dontcare_first=True, netG='oasis', use_vae=False,
                   z_dim=64)


def test_dontcare_first_the_page_names_and_paints_the_datasets_classes():
    opt = oasis_options('coco', 182)
    assert palette_classes(opt) == palette_classes(options('coco', 182, dontcare=True))  # ids, names, eraser
    app = PaintingApp(NoisyLabelsOnly(opt, (4, 2)), 'oasis')
    raw = np.array([[0, 5, 255, 181], [5, 5, 0, 255]], np.uint8)  # COCO-Stuff values, 255 unlabeled
    ids = app.upload_ids(Image.fromarray(raw))
    assert np.array_equal(ids, np.where(raw == 255, 182, raw))  # in the page's ids: class k is k, dontcare 182
    app.synthesize(Image.fromarray(builtin('semsyn', 182, 'coco').to_rgb(ids)))
    given, seed = app.synthesizer.given
    assert np.array_equal(given, (raw.astype(np.int64) + 1) % 256)  # what the model sees: dontcare 0, class k k + 1
    assert seed is None


def test_dontcare_first_examples_are_the_same_scenes():
    plain, first = options('ade20k', 150, dontcare=True), oasis_options('ade20k', 150)
    for opt in (plain, first):
        opt.crop_size, opt.aspect_ratio = 40, 40 / 24
    assert np.array_equal(example_ids(LabelsOnly(first, (40, 24)), 3), example_ids(LabelsOnly(plain, (40, 24)), 3))


def test_the_seed_is_the_style_of_a_model_with_its_own_noise():
    app = PaintingApp(NoisyLabelsOnly(oasis_options('synthetic', 6), (8, 8)), 'oasis')
    assert app.info['seeded'] and not app.info['use_vae']
    label = Image.fromarray(builtin('semsyn', 6, 'synthetic').to_rgb(np.zeros((8, 8), np.int64)))
    app.synthesize(label, seed=7)
    assert app.synthesizer.given[1] == 7
    with pytest.raises(UserError, match='style image: this model takes none'):
        app.synthesize(label, style=label)
