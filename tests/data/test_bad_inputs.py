"""Bad inputs (written to tmp_path) give a one-line UserError naming the file or option."""
import os
import re
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from semsyn.data import create_dataset
from semsyn.errors import UserError
from tests.data.helpers import custom_opts, make_pairs, opts, shared_dataset, write_map, write_photo


def raises_naming(path_or_text, fn):
    with pytest.raises(UserError, match=re.escape(str(path_or_text))) as info:
        fn()
    assert '\n' not in str(info.value)
    return str(info.value)


def test_out_of_range_label_value(tmp_path):
    make_pairs(tmp_path, ['a', 'b'])
    bad = write_map(tmp_path / 'labels' / 'b.png', np.full((24, 32), 20))
    ds = create_dataset(custom_opts(tmp_path))  # label_nc 13 without dontcare
    ds[0]
    msg = raises_naming(bad, lambda: ds[1])
    assert '20' in msg and '--label_nc 13' in msg and '--contain_dontcare_label' in msg


def test_255_is_out_of_range_without_dontcare_but_dontcare_with_it(tmp_path):
    make_pairs(tmp_path, ['a'], label_value=255)
    with pytest.raises(UserError, match='255'):
        create_dataset(custom_opts(tmp_path))[0]
    item = create_dataset(custom_opts(tmp_path, contain_dontcare_label=True, preprocess_mode='none'))[0]
    assert (item['label'] == 13).all()


def test_rgb_label_image(tmp_path):
    make_pairs(tmp_path, ['a'])
    Image.new('RGB', (32, 24), (1, 1, 1)).save(tmp_path / 'labels' / 'a.png')
    msg = raises_naming(tmp_path / 'labels' / 'a.png', lambda: create_dataset(custom_opts(tmp_path))[0])
    assert 'colour (RGB) image; expected a single-channel map of class ids' in msg


@pytest.mark.parametrize('mode', ['P', 'I;16', 'I'])
def test_single_channel_label_modes_are_read_as_integers(tmp_path, mode):
    make_pairs(tmp_path, ['a'])
    values = np.arange(24 * 32).reshape(24, 32) % 13
    if mode == 'I':  # PNG has no 32-bit mode; TIFF does
        os.remove(tmp_path / 'labels' / 'a.png')
    path = write_map(tmp_path / 'labels' / ('a.tif' if mode == 'I' else 'a.png'), values, mode=mode)
    assert Image.open(path).mode == mode
    item = create_dataset(custom_opts(tmp_path, preprocess_mode='crop', crop_size=32, no_flip=True))[0]
    assert np.array_equal(item['label'][0, :24].numpy(), values)


def test_image_without_label(tmp_path):
    make_pairs(tmp_path, ['a', 'b', 'c'])
    os.remove(tmp_path / 'labels' / 'b.png')
    write_map(tmp_path / 'labels' / 'd.png', np.ones((24, 32)))  # same count, different names
    raises_naming(tmp_path / 'images' / 'b.png', lambda: create_dataset(custom_opts(tmp_path)))


def test_label_without_image(tmp_path):
    make_pairs(tmp_path, ['a', 'b', 'c'])
    os.remove(tmp_path / 'images' / 'a.png')
    raises_naming(tmp_path / 'labels' / 'a.png', lambda: create_dataset(custom_opts(tmp_path)))


def test_count_difference_with_no_pairing_check(tmp_path):
    make_pairs(tmp_path, ['a', 'b'])
    write_photo(tmp_path / 'images' / 'c.png', 24, 32)
    msg = raises_naming(tmp_path / 'images' / 'c.png',
                        lambda: create_dataset(custom_opts(tmp_path, no_pairing_check=True)))
    assert '2 label maps but 3 images' in msg
    os.rename(tmp_path / 'images' / 'c.png', tmp_path / 'images' / 'z.png')
    os.remove(tmp_path / 'images' / 'b.png')
    # names differ but counts agree: --no_pairing_check accepts it
    assert len(create_dataset(custom_opts(tmp_path, no_pairing_check=True))) == 2


def test_instance_map_without_label(tmp_path):
    make_pairs(tmp_path, ['a', 'b'], inst=True)
    os.rename(tmp_path / 'instances' / 'b.png', tmp_path / 'instances' / 'x.png')
    raises_naming(tmp_path / 'instances' / 'x.png', lambda: create_dataset(custom_opts(tmp_path)))


def test_corrupt_image(tmp_path):
    make_pairs(tmp_path, ['a', 'b'])
    (tmp_path / 'images' / 'a.png').write_bytes(b'not an image at all')
    data = (tmp_path / 'images' / 'b.png').read_bytes()
    (tmp_path / 'images' / 'b.png').write_bytes(data[:len(data) // 2])  # truncated
    ds = create_dataset(custom_opts(tmp_path))
    raises_naming(tmp_path / 'images' / 'a.png', lambda: ds[0])
    raises_naming(tmp_path / 'images' / 'b.png', lambda: ds[1])


def test_corrupt_label_map(tmp_path):
    make_pairs(tmp_path, ['a'])
    (tmp_path / 'labels' / 'a.png').write_bytes(b'\x89PNG garbage')
    msg = raises_naming(tmp_path / 'labels' / 'a.png', lambda: create_dataset(custom_opts(tmp_path))[0])
    assert msg.startswith('cannot read label map')


def test_label_with_another_aspect_ratio(tmp_path):
    make_pairs(tmp_path, ['a'])
    write_map(tmp_path / 'labels' / 'a.png', np.ones((32, 32)))
    raises_naming(tmp_path / 'labels' / 'a.png', lambda: create_dataset(custom_opts(tmp_path))[0])


@pytest.mark.parametrize('mode', ['coco', 'ade20k', 'cityscapes', 'custom'])
def test_empty_dataroot(tmp_path, mode):
    (tmp_path / 'labels').mkdir()
    (tmp_path / 'images').mkdir()
    if mode == 'custom':
        opt = custom_opts(tmp_path)
        folder = tmp_path / 'labels'
    else:
        opt = opts(dataset_mode=mode, dataroot=str(tmp_path), phase='val')
        folder = tmp_path / {'coco': 'val_label', 'ade20k': 'images', 'cityscapes': 'gtFine'}[mode]
    msg = raises_naming(folder, lambda: create_dataset(opt))
    assert 'expected' in msg


def test_missing_dataroot_and_missing_celeba_list(tmp_path):
    raises_naming(tmp_path / 'nowhere', lambda: create_dataset(opts(dataset_mode='coco',
                                                                     dataroot=str(tmp_path / 'nowhere'))))
    raises_naming(tmp_path / 'train_list.txt', lambda: create_dataset(opts(dataset_mode='celeba',
                                                                            dataroot=str(tmp_path))))


def test_celeba_listed_file_missing(tmp_path):
    (tmp_path / 'train_list.txt').write_text('7.jpg\n')
    write_photo(tmp_path / 'CelebA-HQ-img' / '7.jpg', 16, 16)
    raises_naming(os.path.join('CelebAMaskHQ-mask', '7.png'),
                  lambda: create_dataset(opts(dataset_mode='celeba', dataroot=str(tmp_path))))


def test_custom_options_are_named(tmp_path):
    raises_naming('--label_dir', lambda: create_dataset(opts(dataset_mode='custom', image_dir=str(tmp_path))))
    raises_naming('--image_dir', lambda: create_dataset(opts(dataset_mode='custom', label_dir=str(tmp_path))))
    make_pairs(tmp_path, ['a'])
    raises_naming('--no_instance', lambda: create_dataset(opts(
        dataset_mode='custom', label_dir=str(tmp_path / 'labels'), image_dir=str(tmp_path / 'images'))))


def test_instance_maps_asked_of_a_format_without_them():
    root = shared_dataset('ade20k')
    raises_naming('--no_instance', lambda: create_dataset(opts(dataset_mode='ade20k', dataroot=str(root),
                                                               phase='val', no_instance=False)))


def test_unknown_dataset_mode():
    opt = opts(dataset_mode='synthetic')
    opt.dataset_mode = 'pascal'
    raises_naming('pascal', lambda: create_dataset(opt))


def test_ade20k_out_of_range_reports_the_raw_value(tmp_path):
    root = shared_dataset('ade20k')
    for sub in ('images', 'annotations'):
        shutil.copytree(root / sub, tmp_path / sub)
    path = tmp_path / 'annotations' / 'validation' / 'ADE_val_00000002.png'
    label = np.asarray(Image.open(path)).copy()
    label[0, 0], label[0, 1] = 151, 255  # 151 is out of range; 255 is dontcare
    write_map(path, label)
    ds = create_dataset(opts(dataset_mode='ade20k', dataroot=str(tmp_path), phase='val'))
    msg = raises_naming(path, lambda: ds[1])
    assert '151' in msg and '255' not in msg
    label[0, 0] = 150
    write_map(path, label)
    item = create_dataset(opts(dataset_mode='ade20k', dataroot=str(tmp_path), phase='val',
                               preprocess_mode='crop', crop_size=512, no_flip=True))[1]
    assert item['label'][0, 0, 0] == 149 and item['label'][0, 0, 1] == 150
    assert torch.equal(item['instance'], torch.tensor(0))
