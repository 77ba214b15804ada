"""The user's own label maps come in any size: test.py --label_dir with maps of several sizes and aspect
ratios in one folder synthesizes each (resized to the size the generator takes, the picture written at the
map's own size or, with --output_size model, at the generator's), never stacking maps of different sizes
in one batch; the Python API gives the same pictures. A tiny model of the demo's config (SPADE, 64x64) and
a tiny pix2pixHD (fully convolutional: it takes the map's own size, rounded to what its halvings divide)."""
import os
import subprocess
import sys
from argparse import Namespace

import numpy as np
import pytest
from PIL import Image

from semsyn import Synthesizer
from semsyn.data.files import natural_sort
from semsyn.data.sampler import ResumableSampler, SizeGroupedBatchSampler
from semsyn.errors import UserError
from semsyn.inference import generator_size
from semsyn.options import resolve
from semsyn.training.loop import train
from semsyn.visual import colorize_label
from tests.conftest import REPO

DEMO = ['--config', str(REPO / 'config' / 'demo.yml')]
# --init_variance 1: with the default init two steps leave every picture grey, maps could not be told apart
TINY = ['--synthetic_size', '4', '--niter', '1', '--niter_decay', '0', '--batchSize', '2', '--init_variance', '1']
SIZES = {'square': (64, 64), 'wide': (128, 96), 'tall': (40, 100), 'small': (30, 30), 'wide2': (128, 96)}  # (w, h)


def write_maps(folder, sizes=SIZES):
    folder.mkdir(parents=True, exist_ok=True)
    for name, (w, h) in sizes.items():
        ids = np.zeros((h, w), np.uint8)
        ids[:, w // 2:] = 3
        ids[: h // 3] = 4
        ids[h // 2:, : w // 4] = 1 + len(name.rstrip('2')) % 5  # the maps differ (wide2 is a copy of wide)
        Image.fromarray(ids).save(folder / f'{name}.png')
    return folder


def run_test_py(run, *args):
    env = dict(os.environ, PYTHONPATH=str(REPO / 'code'))
    result = subprocess.run([sys.executable, str(REPO / 'test.py'), '--checkpoints_dir', str(run.parent),
                             '--name', run.name, *args], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def pictures(folder, kind='synthesized_image'):
    return {p.stem: np.asarray(Image.open(p)) for p in sorted((folder / 'images' / kind).iterdir())}


@pytest.fixture(scope='module')
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('sizes')
    train(resolve(DEMO + TINY + ['--checkpoints_dir', str(root), '--name', 'demo'], is_train=True))
    return root / 'demo'


@pytest.mark.slow
def test_maps_of_mixed_sizes_are_each_synthesized_at_their_own_size(demo_run, tmp_path):
    maps = write_maps(tmp_path / 'maps')
    results = tmp_path / 'results'
    run_test_py(demo_run, *DEMO, '--label_dir', str(maps), '--results_dir', str(results), '--batchSize', '4')
    page = results / 'demo' / 'label_maps_latest'
    synthesized, labels = pictures(page), pictures(page, 'input_label')
    assert sorted(synthesized) == sorted(SIZES)
    for name, (w, h) in SIZES.items():
        assert synthesized[name].shape == (h, w, 3), name
        ids = np.asarray(Image.open(maps / f'{name}.png'))
        assert np.array_equal(labels[name], colorize_label(ids, 7))  # the map itself, in its own size
    assert np.array_equal(synthesized['wide'], synthesized['wide2'])  # same size, one batch, same map content
    # the rows of the page in the folder's order, though maps of one size are batched together
    html = (page / 'index.html').read_text()
    names = [os.path.basename(p)[:-4] for p in natural_sort([str(maps / f'{n}.png') for n in SIZES])]
    order = [html.index(f'synthesized_image/{name}.png') for name in names]
    assert order == sorted(order)

    # the Python API gives the same pictures
    s = Synthesizer.from_checkpoint(demo_run)
    for name in SIZES:
        assert np.array_equal(np.asarray(s(maps / f'{name}.png')), synthesized[name]), name

    # --output_size model: the pictures at the generator's size; batch size 1 gives the same pictures
    run_test_py(demo_run, *DEMO, '--label_dir', str(maps), '--results_dir', str(tmp_path / 'model'), '--batchSize',
                '1', '--output_size', 'model')
    at_model = pictures(tmp_path / 'model' / 'demo' / 'label_maps_latest')
    for name in SIZES:
        assert at_model[name].shape == (64, 64, 3)
        assert np.array_equal(at_model[name], np.asarray(s(maps / f'{name}.png', output_size='model')))
    assert not np.array_equal(at_model['square'], at_model['tall'])


def test_a_wrong_output_size_is_one_line(demo_run, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO / 'code'))
    result = subprocess.run([sys.executable, str(REPO / 'test.py'), '--checkpoints_dir', str(demo_run.parent),
                             '--name', 'demo', *DEMO, '--label_dir', str(write_maps(tmp_path / 'm')),
                             '--output_size', 'big'], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode != 0 and 'Traceback' not in result.stderr
    assert '--output_size' in result.stderr and 'label' in result.stderr
    with pytest.raises(UserError, match="output_size 'big'"):
        Synthesizer.from_checkpoint(demo_run)(np.zeros((8, 8), np.int64), output_size='big')


@pytest.mark.slow
def test_pix2pixhd_takes_the_maps_own_size_rounded_to_its_halvings(tmp_path):
    args = ['--dataset_mode', 'synthetic', '--netG', 'pix2pixhd', '--resnet_n_downsample', '2',
            '--resnet_n_blocks', '1', '--crop_size', '32', '--ngf', '4', '--gpu_ids', '-1', '--nThreads', '0']
    train(resolve(args + TINY + ['--ndf', '8', '--no_vgg_loss', '--checkpoints_dir', str(tmp_path / 'ck'),
                                 '--name', 'hd'], is_train=True))
    sizes = {'a': (32, 32), 'b': (50, 30), 'c': (20, 44)}
    maps = write_maps(tmp_path / 'maps', sizes)
    for output, expected in (('label', sizes), ('model', {'a': (32, 32), 'b': (48, 32), 'c': (20, 44)})):
        results = tmp_path / output
        run_test_py(tmp_path / 'ck' / 'hd', *args, '--label_dir', str(maps), '--results_dir', str(results),
                    '--batchSize', '3', '--output_size', output)
        got = pictures(results / 'hd' / 'label_maps_latest')
        assert {k: (v.shape[1], v.shape[0]) for k, v in got.items()} == expected


def opts(**kw):
    base = dict(netG='spade', crop_size=64, aspect_ratio=1.0, num_upsampling_layers='normal', resnet_n_downsample=4)
    return Namespace(**{**base, **kw})


@pytest.mark.parametrize('kw, size, expected', [
    ({}, (128, 96), (64, 64)),
    ({'crop_size': 512, 'aspect_ratio': 2.0, 'num_upsampling_layers': 'more'}, (2048, 1024), (512, 256)),
    ({'crop_size': 256, 'aspect_ratio': 1.5}, (30, 30), (256, 160)),  # what its 8x5 first feature map gives
    ({'netG': 'condconv', 'crop_size': 128}, (7, 9), (128, 128)),
    ({'netG': 'pix2pixhd'}, (100, 50), (96, 48)),
    ({'netG': 'pix2pixhd'}, (5, 7), (16, 16)),
    ({'netG': 'pix2pixhd'}, None, (64, 64)),
])
def test_generator_sizes(kw, size, expected):
    assert generator_size(opts(**kw), size) == expected


def test_batches_hold_maps_of_one_size():
    keys = [(64, 64), (128, 96), (64, 64), (30, 30), (128, 96), (64, 64), (64, 64)]
    sampler = ResumableSampler(len(keys), shuffle=True, seed=3)
    batches = SizeGroupedBatchSampler(sampler, 2, keys)
    batches.set_epoch(1)
    got = list(batches)
    assert sorted(i for b in got for i in b) == list(range(len(keys)))
    assert all(len({keys[i] for i in b}) == 1 and len(b) <= 2 for b in got)
    assert len(got) == len(batches) == 4  # the four (64, 64) in two, the two (128, 96) in one, (30, 30) alone
    one_size = SizeGroupedBatchSampler(ResumableSampler(5, shuffle=False, seed=0), 2, [(1, 1)] * 5)
    assert list(one_size) == [[0, 1], [2, 3], [4]]  # one size: the batches of a plain loader
    one_size.set_epoch(0, start_batch=1)
    assert list(one_size) == [[2, 3], [4]]
