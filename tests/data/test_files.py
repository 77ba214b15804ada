"""File listing, natural order, the files.list cache, pairing rules, coco specifics (in tmp_path)."""
import os

import numpy as np
import pytest

from semsyn.data import create_dataset
from semsyn.data.files import CACHE_NAME, list_images, natural_sort
from semsyn.data.pairing import check_pairs, stem
from semsyn.errors import UserError
from tests.data.helpers import custom_opts, make_pairs, opts, write_map, write_photo


def test_natural_sort():
    assert natural_sort(['d/img10.png', 'd/img9.png', 'd/img1.png', 'd/a.png']) == \
        ['d/a.png', 'd/img1.png', 'd/img9.png', 'd/img10.png']


def test_list_images_is_recursive_and_skips_other_files(tmp_path):
    for rel in ['b/x2.png', 'b/x10.PNG', 'a.jpg', 'notes.txt', 'c/d/e.jpeg']:
        os.makedirs((tmp_path / rel).parent, exist_ok=True)
        (tmp_path / rel).write_bytes(b'')
    names = [os.path.relpath(p, tmp_path) for p in list_images(str(tmp_path))]
    assert names == ['a.jpg', 'b/x2.png', 'b/x10.PNG', 'c/d/e.jpeg']


def test_symlinked_folders_are_listed_once_and_a_loop_is_named(tmp_path, capsys):
    for rel in ['data/a/1.png', 'data/b/2.png', 'elsewhere/3.png']:
        os.makedirs((tmp_path / rel).parent, exist_ok=True)
        (tmp_path / rel).write_bytes(b'')
    (tmp_path / 'data' / 'a' / 'loop').symlink_to(tmp_path / 'data')            # back up the tree
    (tmp_path / 'data' / 'c').symlink_to(tmp_path / 'elsewhere')                # a folder assembled by a link
    (tmp_path / 'data' / 'd').symlink_to(tmp_path / 'data' / 'b')               # b a second time
    names = [os.path.relpath(p, tmp_path / 'data') for p in list_images(str(tmp_path / 'data'))]
    assert names == ['a/1.png', 'b/2.png', 'c/3.png']
    err = capsys.readouterr().err.splitlines()
    assert f'warning: {tmp_path / "data" / "a" / "loop"} -> {tmp_path / "data"} is a symlink loop; its files are ' \
        'listed once' in err
    assert f'warning: {tmp_path / "data" / "d"} -> {tmp_path / "data" / "b"} is a second link to a folder listed ' \
        'already; its files are listed once' in err


def test_file_list_cache_is_written_relative_and_read_back(tmp_path):
    for name in ['1.png', '2.png']:
        (tmp_path / name).write_bytes(b'')
    assert not (tmp_path / CACHE_NAME).exists()
    list_images(str(tmp_path))  # off by default
    assert not (tmp_path / CACHE_NAME).exists()
    listed = list_images(str(tmp_path), write_cache=True)
    assert (tmp_path / CACHE_NAME).read_text() == '1.png\n2.png\n'
    (tmp_path / '3.png').write_bytes(b'')
    assert list_images(str(tmp_path), read_cache=True) == listed  # the cache wins
    assert len(list_images(str(tmp_path))) == 3


def test_dataset_cache_options(tmp_path):
    make_pairs(tmp_path, ['a', 'b'])
    create_dataset(custom_opts(tmp_path, cache_filelist_write=True))
    assert (tmp_path / 'labels' / CACHE_NAME).read_text() == 'a.png\nb.png\n'
    os.remove(tmp_path / 'labels' / 'b.png')
    os.remove(tmp_path / 'images' / 'b.png')
    ds = create_dataset(custom_opts(tmp_path, cache_filelist_read=True))  # the caches still list b
    assert len(ds) == 2
    with pytest.raises(UserError, match='b.png'):
        ds[1]
    assert len(create_dataset(custom_opts(tmp_path))) == 1


def test_check_pairs():
    labels = ['l/a.png', 'l/b.png']
    check_pairs(labels, ['i/a.jpg', 'i/b.jpg'], stem, 'image')
    with pytest.raises(UserError, match='label map l/b.png has no matching image'):
        check_pairs(labels, ['i/a.jpg', 'i/c.jpg'], stem, 'image')
    with pytest.raises(UserError, match='image i/a2.jpg has no matching label map'):
        check_pairs(labels, ['i/a.jpg', 'i/a2.jpg', 'i/b.jpg'], stem, 'image')
    with pytest.raises(UserError, match='first unpaired file: i/d.jpg'):
        check_pairs(labels, ['i/a.jpg', 'i/c.jpg', 'i/d.jpg'], stem, 'image', check_names=False)
    with pytest.raises(UserError, match='first unpaired file: i/b.jpg'):
        check_pairs(labels, ['i/a.jpg', 'i/b.jpg', 'i/b.jpg'], stem, 'image')
    check_pairs(labels, ['i/a.jpg', 'i/c.jpg'], stem, 'image', check_names=False)


def test_max_dataset_size_and_natural_order(tmp_path):
    make_pairs(tmp_path, ['img10', 'img2', 'img1'])
    ds = create_dataset(custom_opts(tmp_path, max_dataset_size=2))
    assert len(ds) == 2 and [stem(p) for p in ds.image_paths] == ['img1', 'img2']
    assert ds[1]['path'] == ds.image_paths[1]


def test_custom_with_instances_and_jpeg_photos(tmp_path):
    make_pairs(tmp_path, ['a', 'b'], inst=True, img_ext='.jpg')
    opt = custom_opts(tmp_path)
    item = create_dataset(opt)[1]
    assert item['label'].shape == item['instance'].shape == (1, 256, 256)
    assert item['image'].shape == (3, 256, 256)
    assert set(item['instance'].unique().tolist()) <= set(range(7))


def make_coco(root, phase, shapes):
    for i, (h, w) in enumerate(shapes):
        name = f'{i:012d}'
        write_map(os.path.join(root, f'{phase}_label', name + '.png'), np.full((h, w), 5))
        write_map(os.path.join(root, f'{phase}_inst', name + '.png'), np.zeros((h, w)))
        write_photo(os.path.join(root, f'{phase}_img', name + '.jpg'), h, w)


def test_coco_no_portraits_drops_portrait_images(tmp_path):
    make_coco(tmp_path, 'train', [(30, 40), (40, 30), (32, 32)])
    make_coco(tmp_path / 'p', 'train', [(50, 20)])
    for kind in ('label', 'img', 'inst'):  # SPADE's <phase>_<kind>_portrait folders
        os.rename(tmp_path / 'p' / f'train_{kind}', tmp_path / f'train_{kind}_portrait')
    assert len(create_dataset(opts(dataset_mode='coco', dataroot=str(tmp_path)))) == 4
    ds = create_dataset(opts(dataset_mode='coco', dataroot=str(tmp_path), coco_no_portraits=True))
    assert [stem(p) for p in ds.image_paths] == ['000000000000', '000000000002']
    assert len(create_dataset(opts(is_train=False, dataset_mode='coco', dataroot=str(tmp_path), phase='train'))) == 3


def test_set_epoch_changes_only_the_augmentation(tmp_path):
    make_pairs(tmp_path, ['a'], h=64, w=96)
    ds = create_dataset(custom_opts(tmp_path, preprocess_mode='crop', crop_size=32))
    first = ds[0]['image']
    assert (ds[0]['image'] == first).all()
    crops = set()
    for epoch in range(6):
        ds.set_epoch(epoch)
        crops.add(ds[0]['image'].numpy().tobytes())
    assert len(crops) > 1
    ds.set_epoch(0)
    assert (ds[0]['image'] == first).all()
