"""Every file-based dataset mode on the shared sample data (skipped where that data is absent)."""
import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from semsyn.data import create_dataset
from semsyn.errors import UserError
from tests.data.helpers import opts, shared_dataset


def raw(path):
    return np.asarray(Image.open(path)).astype(np.int64)


def check_item(item, opt, size):
    w, h = size
    n = opt.label_nc + (1 if opt.contain_dontcare_label else 0)
    assert item['label'].shape == (1, h, w) and item['label'].dtype == torch.int64
    assert 0 <= item['label'].min() and item['label'].max() < n
    assert item['image'].shape == (3, h, w) and item['image'].dtype == torch.float32
    assert -1 <= item['image'].min() and item['image'].max() <= 1
    if opt.no_instance:
        assert torch.equal(item['instance'], torch.tensor(0))
    else:
        assert item['instance'].shape == (1, h, w) and item['instance'].dtype == torch.int64
    assert isinstance(item['path'], str)


def unresized(root, mode, is_train=True, **values):
    """Options that keep the file's own pixels: crop mode with a window larger than the image, no flip."""
    return opts(is_train=is_train, dataset_mode=mode, dataroot=str(root), preprocess_mode='crop', crop_size=1024,
                no_flip=True, **values)


# ---- coco -------------------------------------------------------------------------------------

def test_coco_train_items_and_batches():
    opt = opts(dataset_mode='coco', dataroot=str(shared_dataset('coco_stuff')), max_dataset_size=4)
    ds = create_dataset(opt)
    assert len(ds) == 4
    assert ds.image_paths[0].endswith('train_img/000000017914.jpg')
    for i in range(len(ds)):
        check_item(ds[i], opt, (256, 256))
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert batch['label'].shape == (2, 1, 256, 256) and batch['image'].shape == (2, 3, 256, 256)


def test_coco_test_phase_reads_val_and_maps_255_to_182():
    root = shared_dataset('coco_stuff')
    opt = unresized(root, 'coco', is_train=False, phase='test')
    ds = create_dataset(opt)
    assert len(ds) == 8 and all('/val_img/' in p for p in ds.image_paths)
    item = ds[0]
    expected = raw(ds.label_paths[0])
    assert (expected == 255).any()
    h, w = expected.shape
    expected[expected == 255] = 182
    label = item['label'][0].numpy()
    assert np.array_equal(label[:h, :w], expected)
    assert (label[h:] == 182).all() and (label[:, w:] == 182).all()  # padding is dontcare, not class 0
    assert np.array_equal(item['instance'][0, :h, :w].numpy(), raw(ds.instance_paths[0]))


def test_coco_no_instance():
    opt = opts(dataset_mode='coco', dataroot=str(shared_dataset('coco_stuff')), no_instance=True,
               max_dataset_size=1)
    ds = create_dataset(opt)
    assert ds.instance_paths == []
    check_item(ds[0], opt, (256, 256))


# ---- ade20k -----------------------------------------------------------------------------------

def test_ade20k_off_by_one_mapping():
    opt = unresized(shared_dataset('ade20k'), 'ade20k', phase='val')
    ds = create_dataset(opt)
    assert len(ds) == 3 and opt.label_nc == 150 and opt.no_instance
    for i in range(len(ds)):
        item = ds[i]
        raw_label = raw(ds.label_paths[i])
        h, w = raw_label.shape
        label = item['label'][0, :h, :w].numpy()
        assert (label[raw_label == 0] == 150).all()  # "other" -> dontcare
        assert (label[raw_label == 1] == 0).all()  # wall: class 1 -> channel 0
        assert np.array_equal(label, np.where(raw_label == 0, 150, raw_label - 1))
        check_item(item, opt, (1024, 1024))


def test_ade20k_default_preprocessing():
    opt = opts(dataset_mode='ade20k', dataroot=str(shared_dataset('ade20k')), phase='val')
    item = create_dataset(opt)[2]
    check_item(item, opt, (256, 256))


def test_ade20k_train_phase_names_the_missing_folder():
    root = shared_dataset('ade20k')
    with pytest.raises(UserError, match=r'images/training'):
        create_dataset(opts(dataset_mode='ade20k', dataroot=str(root)))


# ---- cityscapes -------------------------------------------------------------------------------

def test_cityscapes_16_bit_instances_survive():
    opt = opts(dataset_mode='cityscapes', dataroot=str(shared_dataset('cityscapes')), crop_size=256,
               max_dataset_size=3)
    ds = create_dataset(opt)
    assert len(ds) == 3
    for i in range(len(ds)):
        assert ds.pair_key(ds.label_paths[i]) == ds.pair_key(ds.image_paths[i]) == ds.pair_key(ds.instance_paths[i])
        item = ds[i]
        check_item(item, opt, (256, 128))
        inst, label = item['instance'], item['label']
        assert inst.min() >= 0
        # instanceIds = labelId * 1000 + k for things, the label id for stuff: nearest resizing keeps that
        assert torch.equal(torch.where(inst >= 1000, inst // 1000, inst), label)
    assert ds[0]['instance'].max() > 32767  # 33001 in aachen_000000_000019


def test_cityscapes_test_phase_looks_in_val():
    with pytest.raises(UserError, match=r'gtFine/val'):
        create_dataset(opts(is_train=False, dataset_mode='cityscapes', dataroot=str(shared_dataset('cityscapes'))))


# ---- celeba -----------------------------------------------------------------------------------

def test_celeba_resizes_photo_and_mask_consistently():
    opt = opts(dataset_mode='celeba', dataroot=str(shared_dataset('celebamask_hq')), max_dataset_size=2)
    ds = create_dataset(opt)
    assert len(ds) == 2 and opt.label_nc == 18
    for i in range(len(ds)):
        check_item(ds[i], opt, (512, 512))


def test_celeba_mask_is_upsampled_to_the_photo_and_background_is_dontcare():
    root = shared_dataset('celebamask_hq')
    opt = unresized(root, 'celeba', phase='test', max_dataset_size=1)
    ds = create_dataset(opt)
    item = ds[0]
    assert item['label'].shape == (1, 1024, 1024) and item['image'].shape == (3, 1024, 1024)
    mask = raw(ds.label_paths[0])  # 512x512, 0 = background
    assert mask.shape == (512, 512)
    expected = np.where(mask == 0, 18, mask - 1)
    assert np.array_equal(item['label'][0, ::2, ::2].numpy(), expected)
    assert np.array_equal(item['label'][0, 1::2, 1::2].numpy(), expected)


def test_ade20k_raw_labels_follow_scgan():
    """SCGAN's loader keeps raw ids: 0 ("other") stays channel 0, class k stays channel k."""
    root = shared_dataset('ade20k')
    opt = opts(dataset_mode='ade20k', dataroot=str(root), phase='val', ade20k_raw_labels=True,
               preprocess_mode='none', gpu_ids='-1', no_flip=True)
    item = create_dataset(opt)[0]
    raw = np.asarray(Image.open(root / 'annotations' / 'validation' / 'ADE_val_00000001.png'))
    assert set(np.unique(item['label'].numpy())) <= set(np.unique(raw))
    assert item['label'].max() <= 150 and (item['label'] == 0).any()
