"""SPADE's preprocessing (data/base_dataset.py get_params/get_transform) for a photo and its maps.

One set of params per sample is applied to the label map, the instance map and the photo, so they
stay aligned. The params come from a ``random.Random`` seeded by (seed, epoch, index): an epoch
replays exactly after a resume, whatever the worker count or sampling order.

Geometry is computed from the photo's size, and every map is resized to the photo's scaled size,
so maps stored at another resolution (CelebAMask-HQ: 512 masks for 1024 photos) stay aligned.
"""
import random

import numpy as np
import torch
from PIL import Image

MODES = ('resize_and_crop', 'crop', 'scale_width', 'scale_width_and_crop', 'scale_shortside',
         'scale_shortside_and_crop', 'fixed', 'none')
SIZE_BASE = 32  # preprocess_mode none: sides become multiples of this


def params_rng(seed, epoch, index):
    """A generator that depends only on (seed, epoch, index); str seeds are hashed with SHA-512,
    so it is the same on every machine and Python run."""
    return random.Random(f'semsyn-augment/{seed}/{epoch}/{index}')


def scaled_size(opt, size):
    """(w, h) of the photo after the resize step and before cropping."""
    w, h = size
    load, mode = opt.load_size, opt.preprocess_mode
    if mode == 'resize_and_crop':
        return load, load
    if mode in ('scale_width', 'scale_width_and_crop'):
        return load, max(1, load * h // w)
    if mode in ('scale_shortside', 'scale_shortside_and_crop'):
        # SPADE's __scale_shortside returns (ss, ls): the short side keeps its size and only the
        # long side is scaled, which distorts the aspect ratio. Here the short side becomes load_size.
        if w <= h:
            return load, max(1, load * h // w)
        return max(1, load * w // h), load
    if mode == 'none':
        return (max(SIZE_BASE, int(round(w / SIZE_BASE) * SIZE_BASE)),
                max(SIZE_BASE, int(round(h / SIZE_BASE) * SIZE_BASE)))
    if mode == 'fixed':
        return opt.crop_size, max(1, round(opt.crop_size / opt.aspect_ratio))
    return w, h  # crop


def uses_crop(opt):
    return 'crop' in opt.preprocess_mode


def uses_flip(opt):
    return opt.isTrain and not opt.no_flip


def get_params(opt, size, rng):
    """Params for a photo of size (w, h): scaled size, crop position, flip (drawn as in SPADE)."""
    sw, sh = scaled_size(opt, size)
    x = rng.randint(0, max(0, sw - opt.crop_size))
    y = rng.randint(0, max(0, sh - opt.crop_size))
    flip = rng.random() > 0.5
    return {'size': (sw, sh), 'crop_pos': (x, y), 'flip': flip}


def output_size(opt, params):
    """(w, h) of the transformed sample."""
    return (opt.crop_size, opt.crop_size) if uses_crop(opt) else params['size']


def transform_image(img, opt, params):
    """PIL RGB photo -> FloatTensor [3, H, W] in [-1, 1] (resize BICUBIC, crop, flip, normalise)."""
    if img.size != params['size']:
        img = img.resize(params['size'], Image.BICUBIC)
    if uses_crop(opt):
        x, y = params['crop_pos']
        img = img.crop((x, y, x + opt.crop_size, y + opt.crop_size))  # pads with black, as SPADE
    if uses_flip(opt) and params['flip']:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    return image_to_tensor(img)


def image_to_tensor(img):
    """Same values as torchvision ToTensor() followed by Normalize((0.5,)*3, (0.5,)*3)."""
    arr = np.asarray(img, dtype=np.float32) / np.float32(255)
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous().sub_(0.5).div_(0.5)


def transform_map(arr, opt, params, fill=0):
    """int64 map [H, W] -> LongTensor [1, H', W'] (resize NEAREST, crop, flip).

    fill: value of pixels a crop takes from outside the map (SPADE pads with 0; callers pass the
    dontcare class for labels so padding is not read as a real class).
    """
    arr = resize_map(arr, params['size'])
    if uses_crop(opt):
        arr = crop_map(arr, params['crop_pos'], opt.crop_size, fill)
    if uses_flip(opt) and params['flip']:
        arr = arr[:, ::-1]
    return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.int64))[None]


def resize_map(arr, size):
    """Resize with PIL's NEAREST sampling (as SPADE) through a 32-bit integer image."""
    if (arr.shape[1], arr.shape[0]) == tuple(size):
        return arr
    img = Image.fromarray(np.ascontiguousarray(arr, dtype=np.int32))
    return np.asarray(img.resize(size, Image.NEAREST)).astype(np.int64)


def crop_map(arr, pos, size, fill):
    """size x size window at pos; the part outside arr is fill (like PIL's crop, but any fill)."""
    x, y = pos
    part = arr[y:y + size, x:x + size]
    if part.shape == (size, size):
        return part
    out = np.full((size, size), fill, dtype=arr.dtype)
    out[:part.shape[0], :part.shape[1]] = part
    return out
