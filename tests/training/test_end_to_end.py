"""Train a few iterations, then test: on synthetic data and on every sample dataset, on CPU."""
import math
import os

import pytest
import torch
import yaml

from tests.conftest import DATASETS, require
from tests.training.helpers import logged_losses, synthesize_run, train_run

pytestmark = pytest.mark.slow


def check_run(tmp_path, name, roles=('G', 'D'), results=True, label_size=None):
    run = tmp_path / 'ck' / name
    for role in roles:
        assert (run / f'latest_net_{role}.pth').is_file()
        assert (run / f'1_net_{role}.pth').is_file()
    assert (run / 'latest_train_state.pth').is_file()
    saved = yaml.safe_load((run / 'opt.yml').read_text())
    assert saved['name'] == name
    assert (run / 'opt.txt').is_file() and (run / 'web' / 'index.html').is_file()
    losses = logged_losses(run)
    assert losses, 'no losses were logged'
    assert all(math.isfinite(v) for point in losses for v in point.values())
    assert {'GAN', 'D_Fake', 'D_real'} <= set(losses[0])
    imgs = os.listdir(run / 'web' / 'images')
    assert any(f.endswith('_synthesized_image.png') for f in imgs)


def check_results(page, n):
    from PIL import Image
    folder = os.path.dirname(page)
    assert os.path.isfile(page)
    html = open(page).read()
    for sub in ('input_label', 'synthesized_image', 'real_image'):
        files = sorted(os.listdir(os.path.join(folder, 'images', sub)))
        assert len(files) == n, sub
        assert f'images/{sub}/{files[0]}' in html
    return Image.open(os.path.join(folder, 'images', 'synthesized_image', files[0])).size


def test_synthetic_spade_train_then_test(tmp_path):
    train_run(tmp_path, 'syn', '--dataset_mode', 'synthetic', '--synthetic_size', '4', '--crop_size', '64',
              '--tf_log')
    check_run(tmp_path, 'syn')
    events = list((tmp_path / 'ck' / 'syn' / 'logs').glob('events.out.tfevents.*'))
    assert events and events[0].stat().st_size > 0
    assert '<svg' in (tmp_path / 'ck' / 'syn' / 'web' / 'index.html').read_text()
    _, page = synthesize_run(tmp_path, 'syn', '--dataset_mode', 'synthetic', '--synthetic_size', '3',
                              '--crop_size', '64')
    assert page == str(tmp_path / 'results' / 'syn' / 'test_latest' / 'index.html')
    assert check_results(page, 3) == (64, 64)


def test_synthetic_vae_and_pix2pixhd(tmp_path):
    train_run(tmp_path, 'vae', '--dataset_mode', 'synthetic', '--synthetic_size', '2', '--crop_size', '64',
              '--use_vae')
    check_run(tmp_path, 'vae', roles=('G', 'D', 'E'))
    _, page = synthesize_run(tmp_path, 'vae', '--dataset_mode', 'synthetic', '--synthetic_size', '2',
                             '--crop_size', '64', '--use_vae')
    check_results(page, 2)
    train_run(tmp_path, 'hd', '--dataset_mode', 'synthetic', '--synthetic_size', '2', '--crop_size', '32',
              '--netG', 'pix2pixhd', '--resnet_n_blocks', '1', '--resnet_n_downsample', '2')
    check_run(tmp_path, 'hd')


SAMPLES = [
    # name, folder, train args, test args, expected result size (W, H)
    ('coco', 'coco_stuff', ['--dataset_mode', 'coco', '--crop_size', '64', '--load_size', '72'],
     ['--dataset_mode', 'coco', '--crop_size', '64', '--load_size', '64', '--how_many', '3'], 3, (64, 64)),
    ('ade20k', 'ade20k', ['--dataset_mode', 'ade20k', '--phase', 'val', '--crop_size', '64', '--load_size', '72'],
     ['--dataset_mode', 'ade20k', '--phase', 'val', '--crop_size', '64', '--load_size', '64'], 3, (64, 64)),
    ('cityscapes', 'cityscapes', ['--dataset_mode', 'cityscapes', '--crop_size', '128', '--max_dataset_size', '2'],
     ['--dataset_mode', 'cityscapes', '--phase', 'train', '--crop_size', '128', '--how_many', '2'], 2, (128, 64)),
    ('celeba', 'celebamask_hq', ['--dataset_mode', 'celeba', '--crop_size', '64', '--load_size', '64'],
     ['--dataset_mode', 'celeba', '--crop_size', '64', '--load_size', '64', '--how_many', '2'], 2, (64, 64)),
]


@pytest.mark.parametrize('name,folder,train_args,test_args,n,size', SAMPLES, ids=[s[0] for s in SAMPLES])
def test_sample_dataset_train_then_test(tmp_path, name, folder, train_args, test_args, n, size):
    root = str(require(DATASETS / folder, f'{folder} sample dataset'))
    train_run(tmp_path, name, '--dataroot', root, *train_args)
    check_run(tmp_path, name)
    _, page = synthesize_run(tmp_path, name, '--dataroot', root, *test_args)
    assert check_results(page, n) == size


def test_overfitting_two_images_reduces_reconstruction_error(tmp_path):
    """With the GAN + feature-matching losses, G learns to reproduce two fixed training images."""
    from semsyn.data import create_dataset
    from semsyn.models.synthesis import prepare_batch
    from semsyn.options import resolve
    from semsyn.testing import load_generator_model
    from semsyn.training.loop import train
    args = ['--gpu_ids', '-1', '--checkpoints_dir', str(tmp_path / 'ck'), '--name', 'fit', '--dataset_mode',
            'synthetic', '--synthetic_size', '2', '--crop_size', '32', '--ngf', '8', '--batchSize', '2',
            '--no_flip', '--serial_batches']
    train_args = args + ['--ndf', '16', '--no_vgg_loss', '--niter', '1', '--niter_decay', '0', '--save_epoch_freq',
                         '1', '--print_freq', '1000', '--display_freq', '1000', '--no_html']

    def reconstruction_error(epoch):
        opt = resolve(args + ['--which_epoch', str(epoch)], is_train=False)
        opt.phase = 'train'  # the training images
        model = load_generator_model(opt, torch.device('cpu'))
        data = next(iter(torch.utils.data.DataLoader(create_dataset(opt), batch_size=2)))
        semantics, real, _ = prepare_batch(data, opt, torch.device('cpu'))
        return (model(semantics, real, mode='inference') - real).abs().mean().item()

    train(resolve(train_args))
    before = reconstruction_error(1)
    train(resolve(train_args + ['--continue_train', '--niter', '90']))
    after = reconstruction_error(90)
    print(f"reconstruction L1: {before:.3f} after 1 step, {after:.3f} after 90 epochs")
    assert after < 0.6 * before, (before, after)
