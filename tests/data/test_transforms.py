"""SPADE's preprocessing: sizes per mode, nearest resizing of maps, aligned flips, seeded params."""
import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms as T

from semsyn.data.transforms import (
    get_params,
    image_to_tensor,
    output_size,
    params_rng,
    resize_map,
    scaled_size,
    transform_image,
    transform_map,
)
from tests.data.helpers import opts

PHOTO_W, PHOTO_H = 300, 200

# mode -> (size after the resize step, final size) for a 300x200 photo, load 128, crop 64, aspect 2
EXPECTED = {
    'resize_and_crop': ((128, 128), (64, 64)),
    'crop': ((300, 200), (64, 64)),
    'scale_width': ((128, 85), (128, 85)),
    'scale_width_and_crop': ((128, 85), (64, 64)),
    'scale_shortside': ((192, 128), (192, 128)),
    'scale_shortside_and_crop': ((192, 128), (64, 64)),
    'fixed': ((64, 32), (64, 32)),
    'none': ((288, 192), (288, 192)),
}


def mode_opt(mode, **values):
    values = {'dataset_mode': 'synthetic', 'preprocess_mode': mode, 'load_size': 128, 'crop_size': 64,
              'aspect_ratio': 2.0, **values}
    return opts(**values)


def photo(w=PHOTO_W, h=PHOTO_H):
    rgb = np.random.default_rng(0).integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    return Image.fromarray(rgb)


@pytest.mark.parametrize('mode', sorted(EXPECTED))
def test_each_mode_gives_the_expected_size(mode):
    opt = mode_opt(mode)
    params = get_params(opt, (PHOTO_W, PHOTO_H), params_rng(0, 0, 0))
    scaled, final = EXPECTED[mode]
    assert params['size'] == scaled
    assert output_size(opt, params) == final
    w, h = final
    assert transform_image(photo(), opt, params).shape == (3, h, w)
    label = np.zeros((PHOTO_H, PHOTO_W), np.int64)
    assert transform_map(label, opt, params).shape == (1, h, w)


def test_scale_shortside_scales_the_short_side_of_portraits_too():
    # SPADE's version left the short side unchanged; here it becomes load_size.
    assert scaled_size(mode_opt('scale_shortside'), (200, 300)) == (128, 192)
    assert scaled_size(mode_opt('scale_shortside'), (300, 200)) == (192, 128)


def test_crop_position_stays_inside_the_scaled_image():
    opt = mode_opt('scale_width_and_crop')
    for index in range(50):
        x, y = get_params(opt, (PHOTO_W, PHOTO_H), params_rng(0, 0, index))['crop_pos']
        assert 0 <= x <= 128 - 64 and 0 <= y <= 85 - 64


def test_nearest_resizing_keeps_label_values_a_subset():
    rng = np.random.default_rng(1)
    label = rng.choice([3, 7, 11, 150], size=(37, 53)).astype(np.int64)
    for size in [(17, 29), (100, 61), (53, 37), (200, 5)]:
        out = resize_map(label, size)
        assert out.shape == (size[1], size[0]) and out.dtype == np.int64
        assert set(np.unique(out)) <= {3, 7, 11, 150}


def test_nearest_resizing_is_pils_and_keeps_16_bit_values():
    inst = np.random.default_rng(2).integers(0, 33002, size=(20, 30))
    out = resize_map(inst, (45, 13))
    pil = np.asarray(Image.fromarray(inst.astype(np.int32)).resize((45, 13), Image.NEAREST))
    assert np.array_equal(out, pil) and out.max() > 32767 and out.min() >= 0


def test_crop_outside_a_small_image_pads_the_label_with_fill():
    opt = mode_opt('crop', crop_size=64, no_flip=True)
    params = get_params(opt, (40, 30), params_rng(0, 0, 0))
    out = transform_map(np.full((30, 40), 2, np.int64), opt, params, fill=9)[0]
    assert params['crop_pos'] == (0, 0)
    assert (out[:30, :40] == 2).all() and (out[30:] == 9).all() and (out[:, 40:] == 9).all()


@pytest.mark.parametrize('mode', ['crop', 'resize_and_crop', 'fixed'])
def test_flip_is_applied_identically_to_label_and_image(mode):
    """The photo's red channel holds the label value; after the transform they must still agree."""
    h, w = 64, 96
    label = (np.arange(w)[None, :] * 2 + np.arange(h)[:, None] * 3) % 256
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[..., 0] = label
    opt = opts(dataset_mode='synthetic', preprocess_mode=mode, load_size=64, crop_size=48, aspect_ratio=1.0)
    base = get_params(opt, (w, h), params_rng(0, 0, 0))
    outs = {}
    for flip in (False, True):
        params = dict(base, flip=flip)
        lab = transform_map(label, opt, params)[0]
        img = transform_image(Image.fromarray(rgb), opt, params)
        outs[flip] = lab, img
        if mode == 'crop':  # no resampling: the red channel equals the label exactly
            red = torch.round((img[0] + 1) / 2 * 255).long()
            assert torch.equal(red, lab)
    assert torch.equal(outs[True][0], outs[False][0].flip(-1))
    assert torch.allclose(outs[True][1], outs[False][1].flip(-1))
    assert not torch.equal(outs[True][0], outs[False][0])


def test_no_flip_at_test_time_or_with_no_flip():
    label = np.tile(np.arange(32), (32, 1)).astype(np.int64)
    for opt in (opts(is_train=False, dataset_mode='synthetic', preprocess_mode='none'),
                opts(dataset_mode='synthetic', preprocess_mode='none', no_flip=True)):
        for index in range(8):
            params = get_params(opt, (32, 32), params_rng(0, 0, index))
            assert torch.equal(transform_map(label, opt, params)[0], torch.from_numpy(label))


def test_params_depend_only_on_seed_epoch_and_index():
    opt = mode_opt('resize_and_crop')
    draw = lambda seed, epoch, index: get_params(opt, (PHOTO_W, PHOTO_H), params_rng(seed, epoch, index))
    assert draw(3, 4, 5) == draw(3, 4, 5)
    by_epoch = [draw(3, e, 5) for e in range(20)]
    assert any(p != by_epoch[0] for p in by_epoch)
    assert len({p['flip'] for p in by_epoch}) == 2
    assert any(draw(s, 0, 5) != draw(0, 0, 5) for s in range(1, 10))
    assert any(draw(3, 0, i) != draw(3, 0, 0) for i in range(1, 10))


def test_image_tensor_matches_totensor_and_normalize():
    img = photo(40, 30)
    expected = T.Compose([T.ToTensor(), T.Normalize((0.5,) * 3, (0.5,) * 3)])(img)
    assert torch.equal(image_to_tensor(img), expected)
