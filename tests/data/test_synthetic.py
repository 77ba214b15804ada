"""The synthetic dataset: deterministic, learnable (distinct class appearance), fast."""
import time

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from semsyn.data import create_dataset
from semsyn.data.synthetic import class_styles
from tests.data.helpers import opts


def synthetic(is_train=True, **values):
    return create_dataset(opts(is_train=is_train, dataset_mode='synthetic', **values))


def same(a, b):
    return all(torch.equal(a[k], b[k]) for k in ('label', 'instance', 'image')) and a['path'] == b['path']


def test_item_format():
    ds = synthetic()
    assert len(ds) == 64
    item = ds[12]
    assert item['path'] == 'synthetic_000012'
    assert item['label'].shape == item['instance'].shape == (1, 64, 64)
    assert item['label'].dtype == item['instance'].dtype == torch.int64
    assert item['image'].shape == (3, 64, 64) and item['image'].dtype == torch.float32
    assert -1 <= item['image'].min() and item['image'].max() <= 1
    assert 0 <= item['label'].min() and item['label'].max() < 6


def test_size_options():
    ds = synthetic(crop_size=96, aspect_ratio=2.0, synthetic_size=5, label_nc=3, no_instance=True)
    assert len(ds) == 5
    item = ds[4]
    assert item['image'].shape == (3, 48, 96) and item['label'].max() < 3
    assert torch.equal(item['instance'], torch.tensor(0))
    assert len(synthetic(synthetic_size=10, max_dataset_size=3)) == 3
    with pytest.raises(IndexError):
        ds[5]


def test_deterministic_per_seed_and_index():
    a, b = synthetic(seed=5), synthetic(seed=5)
    assert all(same(a[i], b[i]) for i in (0, 7, 63))
    assert not torch.equal(a[0]['label'], a[1]['label'])
    assert not torch.equal(a[3]['image'], synthetic(seed=6)[3]['image'])


def test_test_phase_gives_other_samples():
    train = synthetic(is_train=False, phase='train')
    test = synthetic(is_train=False)  # phase test
    assert not any(torch.equal(train[i]['label'], test[i]['label']) for i in range(4))
    assert same(test[2], synthetic(is_train=False)[2])


def test_regions_are_instances_of_one_class():
    ds = synthetic(label_nc=3)
    shared_class = False
    for i in range(10):
        item = ds[i]
        label, inst = item['label'][0], item['instance'][0]
        ids = inst.unique()
        assert len(ids) >= 3
        classes = [label[inst == k].unique() for k in ids]
        assert all(len(c) == 1 for c in classes)  # an instance never spans two classes
        shared_class |= len({int(c) for c in classes}) < len(ids)
    assert shared_class  # with 3 classes, some regions must share one


def test_classes_pair_colours_and_repeat_textures():
    """Classes 2k and 2k+1 share a colour and differ in texture; classes c and c+4 share a texture and
    differ in colour: telling them apart takes both."""
    colours, kinds = class_styles(8)
    for k in range(4):
        assert np.array_equal(colours[2 * k], colours[2 * k + 1]) and kinds[2 * k] != kinds[2 * k + 1]
    for c in range(4):
        assert kinds[c] == kinds[c + 4] and np.abs(colours[c] - colours[c + 4]).sum() > 0.2
    assert len({tuple(colours[2 * k]) for k in range(4)}) == 4


def test_textures_are_anchored_to_the_image():
    """The same class at the same pixel looks the same in every sample (up to the per-region brightness
    and the pixel noise): a label map has one right picture."""
    ds = synthetic(synthetic_size=24, no_flip=True)
    items = [ds[i] for i in range(24)]
    for c in range(1, 4):  # the textured classes of the first colours
        values = {}
        for item in items:
            mask = item['label'][0] == c
            for y, x in zip(*np.nonzero(mask.numpy())):
                values.setdefault((y, x), []).append(item['image'][:, y, x])
        spread = [torch.stack(v).std(0).max() for v in values.values() if len(v) > 2]
        assert spread and float(torch.stack(spread).median()) < 0.06, c


def test_appearance_is_not_constant_within_a_class():
    item = synthetic()[0]
    label, image = item['label'][0], item['image']
    c = label.flatten().mode().values
    assert image[:, label == c].std(1).min() > 0.01


def test_flip_in_training_only():
    """Training flips mirror the layout; the textures stay anchored, so the picture of a flipped label
    map is painted anew, not mirrored."""
    train = synthetic(synthetic_size=16)
    test = synthetic(is_train=False, phase='train', synthetic_size=16)
    flipped = 0
    for i in range(16):
        a, b = train[i], test[i]
        if torch.equal(a['label'], b['label']):
            assert torch.equal(a['image'], b['image'])
        else:
            flipped += 1
            assert torch.equal(a['label'], b['label'].flip(-1)) and torch.equal(a['instance'], b['instance'].flip(-1))
    assert 0 < flipped < 16
    train.set_epoch(1)
    assert any(not torch.equal(train[i]['label'], synthetic(synthetic_size=16)[i]['label']) for i in range(16))


def test_fast_enough():
    ds = synthetic(synthetic_size=100)
    ds[0]
    start = time.perf_counter()
    for i in range(100):
        ds[i]
    assert (time.perf_counter() - start) / 100 < 0.01


def test_dataloader_with_workers():
    ds = synthetic(synthetic_size=8)
    batches = list(DataLoader(ds, batch_size=4, num_workers=2))
    assert batches[0]['label'].shape == (4, 1, 64, 64) and batches[1]['path'][0] == 'synthetic_000004'
    assert torch.equal(batches[1]['image'][1], ds[5]['image'])
