"""Helpers for the data tests: options, the shared sample datasets (read only), small files in tmp_path."""
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from semsyn.options import make_options

SHARED = Path(__file__).resolve().parents[2].parent / 'shared' / 'datasets'


def shared_dataset(name):
    """Path of one shared sample dataset; skips the test when it is absent."""
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f'sample dataset {path} not found')
    return path


def opts(is_train=True, **values):
    # the dataset tests build no network: pix2pixhd's generator puts no constraint on the crop size
    values.setdefault('netG', 'pix2pixhd')
    return make_options(values, is_train=is_train)


def write_map(path, arr, mode=None):
    """Write an integer map as a PNG (mode L by default, I;16 for values above 255)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    arr = np.asarray(arr)
    if mode is None:
        mode = 'L' if arr.max() < 256 else 'I;16'
    if mode == 'P':
        img = Image.new('P', (arr.shape[1], arr.shape[0]))
        img.putpalette([v for i in range(256) for v in (i, 255 - i, 0)])  # indices are the values
        img.putdata([int(v) for v in arr.flatten()])
    else:
        dtype = {'L': np.uint8, 'I;16': np.uint16, 'I': np.int32}[mode]
        img = Image.fromarray(arr.astype(dtype))
    img.save(path)
    return str(path)


def write_photo(path, h, w, seed=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rgb = np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path)
    return str(path)


def make_pairs(root, names, h=24, w=32, label_value=1, inst=False, img_ext='.png'):
    """<root>/labels, <root>/images (, <root>/instances) with one pair per name."""
    for i, name in enumerate(names):
        write_map(os.path.join(root, 'labels', name + '.png'), np.full((h, w), label_value))
        write_photo(os.path.join(root, 'images', name + img_ext), h, w, seed=i)
        if inst:
            write_map(os.path.join(root, 'instances', name + '.png'), np.arange(h * w).reshape(h, w) % 7)
    return root


def custom_opts(root, **values):
    values.setdefault('no_instance', not os.path.isdir(os.path.join(root, 'instances')))
    if not values['no_instance']:
        values.setdefault('instance_dir', os.path.join(root, 'instances'))
    return opts(dataset_mode='custom', label_dir=os.path.join(root, 'labels'),
                image_dir=os.path.join(root, 'images'), **values)
