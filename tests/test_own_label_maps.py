"""Synthesis from the user's own label maps: colour palettes (and their converter command), test.py
--label_dir without photos, --style_image, and the Python API (the example in docs/api.md runs as is)."""
import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

from semsyn.data.palette import BUILTIN, builtin, load_palette
from semsyn.data.palette.__main__ import main as palette_main
from semsyn.errors import UserError
from tests.conftest import REPO
from tests.training.helpers import synthesize_run, train_run

SYN = ['--dataset_mode', 'synthetic', '--synthetic_size', '4', '--crop_size', '64']
VAE = SYN + ['--use_vae']


@pytest.mark.parametrize('name', [n for n in BUILTIN if n != 'semsyn'] + ['semsyn'])
def test_builtin_palettes_round_trip(name):
    palette = builtin(name, label_nc=6, dataset_mode='synthetic')
    values = sorted({v for _, v in palette.entries})
    ids = np.array(values, np.int64).reshape(1, -1)
    back = palette.to_ids(palette.to_rgb(ids))
    firsts = {}
    for rgb, v in palette.entries:  # a colour shared by two ids gives the first
        firsts.setdefault(rgb, v)
    expected = [firsts[next(rgb for rgb, v in palette.entries if v == value)] for value in values]
    assert back.tolist() == [expected]


def test_known_palette_colours():
    assert builtin('cityscapes').to_ids(np.array([[[128, 64, 128], [70, 130, 180]]], np.uint8)).tolist() == [[7, 23]]
    ade = builtin('ade20k')
    assert ade.to_ids(np.array([[[120, 120, 120], [6, 230, 230], [0, 0, 0]]], np.uint8)).tolist() == [[1, 3, 0]]


def test_palette_files_and_unknown_colours(tmp_path):
    (tmp_path / 'p.json').write_text(json.dumps({'255,0,0': 2, '0, 0, 255': 5}))
    (tmp_path / 'p.txt').write_text('# r g b id\n255 0 0 2\n0 0 255 5\n')
    (tmp_path / 'l.json').write_text(json.dumps([[255, 0, 0, 2], [0, 0, 255, 5]]))
    image = np.zeros((3, 4, 3), np.uint8)
    image[..., 0] = 255
    image[2, 3] = (0, 0, 255)
    for name in ('p.json', 'p.txt', 'l.json'):
        ids = load_palette(str(tmp_path / name)).to_ids(image)
        assert ids[0, 0] == 2 and ids[2, 3] == 5
    image[1, 2] = (9, 9, 9)
    with pytest.raises(UserError) as exc:
        load_palette(str(tmp_path / 'p.txt')).to_ids(image, 'map.png')
    assert str(exc.value) == 'map.png: colour (9, 9, 9) at pixel (x=2, y=1) is not in the p.txt palette'
    (tmp_path / 'bad.txt').write_text('1 2 3\n')
    with pytest.raises(UserError, match='bad.txt'):
        load_palette(str(tmp_path / 'bad.txt'))
    with pytest.raises(UserError, match='neither a built-in palette'):
        load_palette('no_such_palette')


def test_converter_command(tmp_path, capsys):
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[0, 0] = (120, 120, 120)  # ADE20K's wall: annotation value 1
    Image.fromarray(rgb).save(tmp_path / 'in.png')
    assert palette_main([str(tmp_path / 'in.png'), str(tmp_path / 'out.png'), '--palette', 'ade20k']) == 0
    out = np.asarray(Image.open(tmp_path / 'out.png'))
    assert out.tolist() == [[1, 0], [0, 0]] and Image.open(tmp_path / 'out.png').mode == 'L'
    palette_main([str(tmp_path / 'out.png'), str(tmp_path / 'back.png'), '--palette', 'ade20k', '--to_colour'])
    assert np.array_equal(np.asarray(Image.open(tmp_path / 'back.png')), rgb)


@pytest.fixture(scope='module')
def vae_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('own')
    # --init_variance 1: with the default init (gain 0.02) two steps leave the pictures within one 8-bit
    # level of grey, so pictures of different maps or seeds could not be told apart
    train_run(root, 'tiny', *VAE, '--init_variance', '1')
    return root


def write_labels(folder, sizes=((64, 64), (48, 80))):
    folder.mkdir(parents=True, exist_ok=True)
    for i, (h, w) in enumerate(sizes):
        ids = np.zeros((h, w), np.uint8)
        ids[:, w // 2:] = 3
        ids[: h // 3] = 4
        Image.fromarray(ids).save(folder / f'map{i}.png')
    return folder


@pytest.mark.slow
def test_label_maps_alone_with_ids_colours_style_and_samples(vae_run, tmp_path):
    labels = write_labels(tmp_path / 'labels')
    _, page = synthesize_run(vae_run, 'tiny', *VAE, '--label_dir', str(labels), '--results_dir', str(tmp_path / 'r'),
                             '--n_samples', '2')
    folder = tmp_path / 'r' / 'tiny' / 'label_labels_latest' / 'images'
    assert sorted(p.name for p in folder.iterdir()) == ['input_label', 'synthesized_image', 'synthesized_image_2']
    assert sorted(p.name for p in (folder / 'synthesized_image').iterdir()) == ['map0.png', 'map1.png']
    assert Image.open(folder / 'synthesized_image' / 'map1.png').size == (80, 48)  # the map's own size

    # the same maps painted in the label pages' colours
    palette = builtin('semsyn', 6, 'synthetic')
    colours = write_labels(tmp_path / 'colours')
    for path in colours.iterdir():
        Image.fromarray(palette.to_rgb(np.asarray(Image.open(path)).astype(np.int64))).save(path)
    synthesize_run(vae_run, 'tiny', *VAE, '--label_dir', str(colours), '--label_palette', 'semsyn', '--results_dir',
                   str(tmp_path / 'c'))
    a = np.asarray(Image.open(folder / 'synthesized_image' / 'map0.png'))
    b = np.asarray(Image.open(tmp_path / 'c' / 'tiny' / 'label_colours_latest' / 'images' / 'synthesized_image' /
                              'map0.png'))
    assert np.array_equal(a, b)  # same label map, same seed: the same picture

    photo = tmp_path / 'style.jpg'
    Image.fromarray((np.random.default_rng(0).random((90, 90, 3)) * 255).astype(np.uint8)).save(photo)
    synthesize_run(vae_run, 'tiny', *VAE, '--label_dir', str(labels), '--style_image', str(photo), '--results_dir',
                   str(tmp_path / 's'))
    styled = np.asarray(Image.open(tmp_path / 's' / 'tiny' / 'label_labels_latest' / 'images' / 'synthesized_image' /
                                   'map0.png'))
    assert not np.array_equal(styled, a)


def readme_example():
    text = (REPO / 'docs' / 'api.md').read_text()
    block = re.search(r'## Python API.*?```python\n(.*?)```', text, re.S)
    assert block, 'docs/api.md has a Python API example'
    return block.group(1)


@pytest.mark.slow
def test_the_documented_python_example_runs(vae_run, tmp_path, monkeypatch):
    code = readme_example()
    assert len(code.strip().splitlines()) <= 6
    (tmp_path / 'checkpoints').mkdir()
    (tmp_path / 'checkpoints' / 'demo').symlink_to(vae_run / 'ck' / 'tiny')
    write_labels(tmp_path / 'labels', sizes=((40, 40),))
    (tmp_path / 'labels' / 'map0.png').rename(tmp_path / 'my_label_map.png')
    monkeypatch.chdir(tmp_path)
    exec(compile(code, 'README.md', 'exec'), {})
    assert Image.open(tmp_path / 'picture.png').size == (40, 40)  # the map's size


def test_python_api_inputs_and_errors(vae_run, tmp_path):
    from semsyn import Synthesizer
    s = Synthesizer.from_checkpoint(vae_run / 'ck' / 'tiny')
    ids = np.zeros((30, 50), np.int64)
    ids[:, 20:] = 2
    by_array, by_image = s(ids, seed=4), s(Image.fromarray(ids.astype(np.uint8)), seed=4)
    assert by_array.size == (50, 30) and np.array_equal(np.asarray(by_array), np.asarray(by_image))
    assert s(ids, seed=4, output_size='model').size == (64, 64)
    assert not np.array_equal(np.asarray(by_array), np.asarray(s(ids, seed=5)))
    batch = s.synthesize(torch.cat([s.semantics(ids), s.semantics(ids)]))
    assert batch.shape == (2, 3, 64, 64)
    with pytest.raises(UserError, match='outside the expected range: 9'):
        s(np.full((8, 8), 9))
    with pytest.raises(UserError, match='palette='):
        s(Image.new('RGB', (8, 8)))
    (tmp_path / 'nothing').mkdir()
    with pytest.raises(UserError, match='no opt.yml'):
        Synthesizer.from_checkpoint(tmp_path / 'nothing')
    (tmp_path / 'not_an_image.jpg').write_text('hello')
    with pytest.raises(UserError, match='not_an_image.jpg'):
        s(ids, style=tmp_path / 'not_an_image.jpg')
