import os
import stat

import numpy as np
import pytest
import torch
from PIL import Image

from semsyn.visual import save_image, tensor2im


def test_tensor2im_range_and_clamp():
    t = torch.tensor([-1.0, 1.0, 0.0, -3.0, 7.0, float('nan')]).view(1, 1, 6).expand(3, 1, 6)
    im = tensor2im(t)
    assert im.shape == (1, 6, 3) and im.dtype == np.uint8
    assert im[0, :, 0].tolist() == [0, 255, 127, 0, 255, 0]  # SPADE truncates: 127.5 -> 127


def test_tensor2im_channel_order_and_batch():
    t = torch.full((2, 3, 4, 5), -1.0)
    t[1, 2] = 1.0  # blue channel of the second image
    ims = tensor2im(t)
    assert isinstance(ims, list) and len(ims) == 2
    assert ims[0].shape == (4, 5, 3) and ims[0].max() == 0
    assert (ims[1][..., 2] == 255).all() and (ims[1][..., :2] == 0).all()


def test_tensor2im_rejects_bad_shape():
    with pytest.raises(ValueError):
        tensor2im(torch.zeros(4, 8, 8))


def test_save_image_roundtrip_atomic(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    path = tmp_path / 'sub' / 'dir' / 'x.png'
    save_image(a, path)
    with Image.open(path) as im:
        assert im.format == 'PNG'
        np.testing.assert_array_equal(np.asarray(im.convert('RGB')), a)
    assert os.listdir(path.parent) == ['x.png']  # no temp file left behind
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~mask  # like open(), not mkstemp's 0600
    save_image(a[..., 0], path)  # grayscale overwrites in place
    with Image.open(path) as im:
        assert im.size == (9, 7)


def test_save_image_rejects_float(tmp_path):
    with pytest.raises(ValueError):
        save_image(np.zeros((4, 4, 3), np.float32), tmp_path / 'f.png')
