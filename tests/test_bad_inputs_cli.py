"""The bad inputs a user meets first, through the command-line entry points (semsyn.cli, what train.py
and test.py call; python -m semsyn.metrics.fid): each ends with exit status 2 and one line on stderr
naming the option or file, no traceback, and no file of the run folders or datasets changed.
tests/test_cli.py runs a few of them as real processes."""
import hashlib
import os
import pickle
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from semsyn import cli
from semsyn.data.palette import builtin
from semsyn.errors import UserError, run_main
from semsyn.metrics.fid.__main__ import main as fid_main
from semsyn.training.lock import RunLock
from tests.conftest import DATASETS, REPO

TINY = ['--gpu_ids', '-1', '--dataset_mode', 'synthetic', '--synthetic_size', '2', '--crop_size', '32', '--ngf', '4',
        '--ndf', '8', '--no_vgg_loss', '--batchSize', '2', '--niter', '1']


class _Payload:
    def __reduce__(self):
        return (os.system, ('echo never',))


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    """A trained tiny run, runs with unreadable checkpoints, small custom datasets with defects."""
    root = tmp_path_factory.mktemp('world')
    ck = root / 'ck'
    cli.train_main(TINY + ['--checkpoints_dir', str(ck), '--name', 'ok'])
    contents = {'random': os.urandom(3000), 'truncated': (ck / 'ok' / 'latest_net_G.pth').read_bytes()[:2000],
                'payload': pickle.dumps({'fc.weight': _Payload()})}
    for name, content in contents.items():
        (ck / name).mkdir()
        (ck / name / 'latest_net_G.pth').write_bytes(content)
    torch.save({'fc.weight': torch.zeros(1), 'x': _Payload()}, ck / 'payload_zip.pth')
    (ck / 'payload_zip').mkdir()
    shutil.move(str(ck / 'payload_zip.pth'), ck / 'payload_zip' / 'latest_net_G.pth')
    data = root / 'data'
    for sub in ('labels', 'rgb_labels', 'images', 'unpaired', 'broken_images'):
        (data / sub).mkdir(parents=True)
    for i in range(2):
        label = np.zeros((32, 32), np.uint8)
        label[:4, :4] = 3 if i == 0 else 9  # 9 is outside --label_nc 4
        Image.fromarray(label).save(data / 'labels' / f'{i}.png')
        Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(data / 'rgb_labels' / f'{i}.png')
        Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(data / 'images' / f'{i}.jpg')
        Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(data / 'unpaired' / f'other{i}.jpg')
        (data / 'broken_images' / f'{i}.jpg').write_bytes(b'not a jpeg')
    cli.train_main(TINY + ['--checkpoints_dir', str(ck), '--name', 'vae', '--use_vae'])
    for sub in ('empty_labels', 'big_ids', 'painted'):
        (data / sub).mkdir()
    Image.fromarray(np.full((16, 16), 9, np.uint8)).save(data / 'big_ids' / 'a.png')  # --label_nc 6 here
    Image.fromarray(np.full((16, 16, 3), 7, np.uint8)).save(data / 'painted' / 'a.png')  # not a page colour
    (data / 'not_an_image.jpg').write_text('hello')
    for sub in ('jpeg_ids', 'jpeg_colours'):
        (data / sub).mkdir()
    ids = np.zeros((32, 32), np.uint8)
    ids[:, 16:] = 5
    ids[8:24, 4:10] = 5  # JPEG's ringing at these edges makes 6: outside --label_nc 6
    Image.fromarray(ids).save(data / 'jpeg_ids' / 'a.jpg', quality=75)
    Image.fromarray(builtin('semsyn', 6, 'synthetic').to_rgb(ids.astype(np.int64))).save(
        data / 'jpeg_colours' / 'a.jpg', quality=75)
    (root / 'empty').mkdir()
    (ck / 'locked').mkdir()
    world_lock = RunLock(str(ck / 'locked')).acquire()  # a run folder being trained (by this process)
    (root / 'bad.yml').write_text('batchSize: many\n')
    (root / 'unknown.yml').write_text('batch_size: 4\n')
    yield root
    world_lock.release()


def custom(world, labels='labels', images='images'):
    return ['--gpu_ids', '-1', '--dataset_mode', 'custom', '--label_dir', str(world / 'data' / labels), '--image_dir',
            str(world / 'data' / images), '--label_nc', '4', '--no_instance', '--crop_size', '32', '--load_size', '32',
            '--ngf', '4', '--ndf', '8', '--no_vgg_loss', '--batchSize', '2', '--checkpoints_dir',
            str(world / 'ck'), '--name', f'{labels}_{images}']


def synthesized(world, name, *extra):
    return ['--gpu_ids', '-1', '--dataset_mode', 'synthetic', '--synthetic_size', '2', '--crop_size', '32', '--ngf',
            '4', '--checkpoints_dir', str(world / 'ck'), '--name', name, '--results_dir', str(world / 'results')
            ] + list(extra)


def shared(name):
    return str(DATASETS / name)


# (id, entry point, arguments from the world folder, fragments the one line must contain)
CASES = [
    ('no_arguments', 'train', lambda w: [], ['--dataroot', '--dataset_mode coco']),
    ('crop_too_small_cityscapes', 'train', lambda w: ['--dataset_mode', 'cityscapes', '--dataroot',
                                                        shared('cityscapes'), '--crop_size', '64', '--gpu_ids', '-1'],
     ['--crop_size 64', '128']),
    ('crop_too_small_ccfpse_config', 'train', lambda w: ['--config', str(REPO / 'config' / 'ccfpse_cityscapes.yml'),
                                                           '--crop_size', '64', '--gpu_ids', '-1'], ['--crop_size 64']),
    ('crop_too_small_synthetic', 'train', lambda w: ['--dataset_mode', 'synthetic', '--crop_size', '16'],
     ['--crop_size 16', 'at least 32']),
    ('scgan_with_more_upsampling', 'train', lambda w: ['--netG', 'scg', '--dataset_mode', 'cityscapes', '--gpu_ids',
                                                         '-1'], ['--netG scg', 'normal']),
    ('condconv_with_most_upsampling', 'train', lambda w: ['--netG', 'condconv', '--num_upsampling_layers', 'most'],
     ['--num_upsampling_layers most', 'normal or more']),
    ('fpse_crop_too_small', 'train', lambda w: TINY + ['--netD', 'fpse'], ['--netD fpse', '64']),
    ('batch_norm_on_one_value', 'train', lambda w: TINY[:-4] + ['--batchSize', '1'],
     ['--batchSize 1', '--crop_size 32']),
    ('load_smaller_than_crop', 'train', lambda w: ['--dataset_mode', 'coco', '--dataroot', shared('coco_stuff'),
                                                     '--load_size', '32', '--crop_size', '64'], ['--load_size 32']),
    ('unknown_config_key', 'train', lambda w: ['--config', str(w / 'unknown.yml')], ['batch_size', 'unknown.yml']),
    ('bad_config_value', 'train', lambda w: ['--config', str(w / 'bad.yml')], ['batchSize', 'bad.yml']),
    ('unknown_flag', 'train', lambda w: ['--batch_size', '2'], ['--batch_size']),
    ('empty_dataroot', 'train', lambda w: ['--dataset_mode', 'coco', '--dataroot', str(w / 'empty'), '--gpu_ids', '-1'],
     [str(os.sep + 'empty')]),
    ('label_out_of_range', 'train', lambda w: custom(w), ['1.png', '9']),
    ('colour_label_map', 'train', lambda w: custom(w, 'rgb_labels'), ['rgb_labels', 'colour']),
    ('unpaired_files', 'train', lambda w: custom(w, 'labels', 'unpaired'), ['0.png', '--no_pairing_check']),
    ('unreadable_image', 'train', lambda w: custom(w, 'labels', 'broken_images'), ['broken_images']),
    ('fresh_run_over_an_earlier_one', 'train', lambda w: TINY + ['--checkpoints_dir', str(w / 'ck'), '--name', 'ok'],
     ['--continue_train']),
    ('run_folder_in_use', 'train', lambda w: TINY + ['--checkpoints_dir', str(w / 'ck'), '--name', 'locked'],
     ['locked is in use by another training run', f'pid {os.getpid()} on ', '--name']),
    ('run_folder_not_writable', 'train', lambda w: TINY + ['--checkpoints_dir', str(w / 'bad.yml'), '--name', 'x'],
     ['cannot write the run folder', 'bad.yml', 'Not a directory']),
    ('gpu_without_cuda', 'train', lambda w: TINY[2:] + ['--gpu_ids', '0'], ['--gpu_ids 0', 'CUDA']),
    ('compile_on_the_cpu', 'train', lambda w: TINY + ['--compile'], ['--compile', 'GPU']),
    ('compile_with_data_parallel', 'train', lambda w: TINY[2:] + ['--gpu_ids', '0,1', '--compile'],
     ['--compile', 'torchrun']),
    ('missing_vgg_weights', 'train', lambda w: [a for a in TINY if a != '--no_vgg_loss'],
     ['vgg19-dcbb9e9d.pth', '--vgg_weights', '--no_vgg_loss']),
    ('missing_vgg_weights_routing_loss', 'train', lambda w: ['--dataset_mode', 'synthetic', '--netG', 'scg',
                                                               '--rw_loss', 'vgg', '--no_vgg_loss', '--nrf', '4',
                                                               '--nff', '4', '--crop_size', '64', '--gpu_ids', '-1'],
     ['vgg19-dcbb9e9d.pth', '--rw_loss l1']),
    ('missing_fid_weights_from_config', 'train', lambda w: [
        '--config', str(REPO / 'config' / 'scgan_ade20k.yml'), '--dataroot', shared('ade20k'), '--phase', 'val',
        '--batchSize', '1', '--no_vgg_loss', '--gpu_ids', '-1', '--checkpoints_dir', str(w / 'ck'), '--name', 'fid'],
     ['pt_inception-2015-12-05-6726825d.pth', '--fid_weights', '--fid_epoch 0']),
    ('negative_learning_rate', 'train', lambda w: TINY + ['--lr', '-1'], ['--lr -1.0', 'allowed: > 0']),
    ('no_epochs', 'train', lambda w: TINY[:-2] + ['--niter', '0', '--niter_decay', '0'],
     ['--niter 0 --niter_decay 0', 'at least one epoch']),
    ('beta_of_one', 'train', lambda w: TINY + ['--beta2', '1'], ['--beta2 1.0', '[0, 1)']),
    ('negative_lambda', 'train', lambda w: TINY + ['--lambda_feat', '-1'], ['--lambda_feat -1.0', '>= 0']),
    ('print_freq_zero', 'train', lambda w: TINY + ['--print_freq', '0'], ['--print_freq 0', '>= 1']),
    ('negative_workers', 'train', lambda w: TINY + ['--nThreads', '-2'], ['--nThreads -2', '>= 0, or -1']),
    ('name_with_a_path', 'train', lambda w: TINY + ['--checkpoints_dir', str(w / 'ck'), '--name', 'a/b'],
     ["--name 'a/b'", 'single name']),
    ('which_epoch_outside_the_run', 'test', lambda w: synthesized(w, 'ok', '--which_epoch', '../../x'),
     ["--which_epoch '../../x'", 'single name']),
    ('boolean_with_a_bad_word', 'train', lambda w: TINY + ['--no_ganFeat_loss', 'maybe'],
     ['--no_ganFeat_loss', 'true or false', 'maybe']),
    ('vgg_weights_missing_file', 'train', lambda w: TINY + ['--vgg_weights', str(w / 'no_vgg19.pth')],
     ['--vgg_weights', 'no_vgg19.pth', 'file not found']),
    ('checkpoint_does_not_fit', 'test', lambda w: synthesized(w, 'ok', '--ngf', '8'),
     ['latest_net_G.pth', 'shape', '--load_from_opt_file']),
    ('checkpoint_missing', 'test', lambda w: synthesized(w, 'never_trained'), ['never_trained', 'not found', 'README']),
    ('checkpoint_random_bytes', 'test', lambda w: synthesized(w, 'random'), ['latest_net_G.pth', 'not a PyTorch file']),
    ('checkpoint_truncated', 'test', lambda w: synthesized(w, 'truncated'), ['latest_net_G.pth', 'truncated']),
    ('checkpoint_pickle', 'test', lambda w: synthesized(w, 'payload'), ['latest_net_G.pth', 'refused']),
    ('checkpoint_executable', 'test', lambda w: synthesized(w, 'payload_zip'),
     ['latest_net_G.pth', 'executable objects (posix.system): refused']),
    ('fid_reference_missing', 'test', lambda w: synthesized(w, 'ok', '--fid', '--gt', str(w / 'no_such_folder')),
     ['--gt', 'no_such_folder']),
    ('label_dir_empty', 'test', lambda w: synthesized(w, 'ok', '--label_dir', str(w / 'data' / 'empty_labels')),
     ['--label_dir', 'empty_labels', 'no label maps']),
    ('label_ids_out_of_range', 'test', lambda w: synthesized(w, 'ok', '--label_dir', str(w / 'data' / 'big_ids')),
     ['big_ids', 'a.png', '9']),
    ('label_colour_not_in_palette', 'test', lambda w: synthesized(w, 'ok', '--label_dir', str(w / 'data' / 'painted'),
                                                                  '--label_palette', 'semsyn'),
     ['painted', 'a.png', 'colour (7, 7, 7)', 'x=0, y=0']),
    ('label_ids_saved_as_jpeg', 'test', lambda w: synthesized(w, 'ok', '--label_dir', str(w / 'data' / 'jpeg_ids')),
     ['a.jpg', 'values outside the expected range', 'JPEG', 'lossy compression changed the labels', 'PNG']),
    ('label_colours_saved_as_jpeg', 'test', lambda w: synthesized(w, 'ok', '--label_dir', str(w / 'data' /
                                                                                             'jpeg_colours'),
                                                                  '--label_palette', 'semsyn'),
     ['a.jpg', 'not in the semsyn palette', 'lossy compression changed the labels', 'save label maps as PNG']),
    ('n_samples_without_style_code', 'test', lambda w: synthesized(w, 'ok', '--n_samples', '3'),
     ['--n_samples 3', 'no style code', '--use_vae', 'always the same']),
    ('n_samples_with_style_image', 'test', lambda w: synthesized(w, 'vae', '--use_vae', '--n_samples', '3',
                                                                 '--style_image', str(w / 'data' / 'images' / '0.jpg')),
     ['--n_samples 3 with --style_image', 'fixes the style code']),
    ('style_image_not_an_image', 'test', lambda w: synthesized(w, 'vae', '--use_vae', '--style_image',
                                                               str(w / 'data' / 'not_an_image.jpg')),
     ['style image', 'not_an_image.jpg']),
    ('style_image_without_encoder', 'test', lambda w: synthesized(w, 'ok', '--style_image', str(w / 'data' /
                                                                                                 'not_an_image.jpg')),
     ['--style_image', '--use_vae']),
    ('fid_command_without_weights', 'fid', lambda w: [str(w / 'data' / 'images'), str(w / 'data' / 'unpaired'),
                                                        '--num-workers', '0', '--device', 'cpu'],
     ['pt_inception-2015-12-05-6726825d.pth', '--fid_weights']),
    ('fid_command_underscore_flags', 'fid', lambda w: [str(w / 'data' / 'images'), str(w / 'data' / 'unpaired'),
                                                         '--num_workers', '0', '--batch_size', '2', '--device', 'cpu',
                                                         '--fid_weights', str(w / 'no_inception.pth')],
     ['no_inception.pth']),
    ('fid_command_old_spellings', 'fid', lambda w: [str(w / 'data' / 'images'), str(w / 'data' / 'unpaired'),
                                                      '--num-workers', '0', '--batch-size', '2', '--device', 'cpu',
                                                      '--weights', str(w / 'no_inception.pth')],
     ['no_inception.pth']),
]
NOT_WEIGHTS_ONLY = {'checkpoint_random_bytes', 'checkpoint_truncated', 'checkpoint_pickle', 'checkpoint_executable'}
# found while the data is read, after the run has started (its opt.yml and log are written then)
DURING_THE_RUN = {'label_out_of_range', 'colour_label_map', 'unreadable_image'}
NEEDS_SHARED = {'crop_too_small_cityscapes', 'load_smaller_than_crop', 'missing_fid_weights_from_config'}


def snapshot(root):
    """{path: sha256} of every file under root."""
    out = {}
    for folder, _, files in os.walk(root):
        for f in files:
            path = os.path.join(folder, f)
            with open(path, 'rb') as fh:
                out[path] = hashlib.sha256(fh.read()).hexdigest()
    return out


ENTRY = {'train': cli.train_main, 'test': cli.test_main, 'fid': lambda argv: run_main(fid_main, argv)}


@pytest.mark.parametrize('case,entry,argv,fragments', CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(case, entry, argv, fragments, world, capsys, monkeypatch):
    if case in NEEDS_SHARED and not DATASETS.is_dir():
        pytest.skip(f'sample datasets not found at {DATASETS}')
    if case == 'gpu_without_cuda' and torch.cuda.is_available():
        pytest.skip('checks the error on a machine without CUDA')
    monkeypatch.setenv('TORCH_HOME', str(world / 'torch_home'))  # no pretrained weights here
    monkeypatch.setenv('SEMSYN_OFFLINE', '1')
    monkeypatch.chdir(world)
    before = snapshot(world)
    datasets_before = snapshot(DATASETS) if case in NEEDS_SHARED else None
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        ENTRY[entry](argv(world))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith('error: ')]
    assert len(errors) == 1 and err[-1] == errors[0], err
    assert all(line.startswith(('note: ', 'warning: ', 'error: ')) for line in err), err  # no traceback
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    assert len(errors[0]) < 600, errors[0]
    if case in NOT_WEIGHTS_ONLY:  # a short reason after the path, never advice to turn the safety off
        assert len(errors[0].split('latest_net_G.pth', 1)[1]) < 120 and 'weights_only' not in errors[0]
    after = snapshot(world)
    assert {p: h for p, h in after.items() if p in before} == before, 'a file changed'
    new = [p for p in after if p not in before and p.endswith(('opt.yml', 'loss_log.txt', '.html', '.pth'))]
    assert not new or (case in DURING_THE_RUN and not [p for p in new if p.endswith(('.html', '.pth'))]), new
    if datasets_before is not None:
        assert snapshot(DATASETS) == datasets_before


def test_the_python_api_names_what_is_wrong(world):
    """Synthesizer: a missing run folder is named; seed= on a model without a style code is refused."""
    from semsyn import Synthesizer
    with pytest.raises(UserError) as missing:
        Synthesizer.from_checkpoint(world / 'ck' / 'no_such_run')
    assert str(missing.value).startswith(f'{world / "ck" / "no_such_run"}: no such run folder')
    s = Synthesizer.from_checkpoint(world / 'ck' / 'ok')
    s(np.zeros((8, 8), np.int64))
    with pytest.raises(UserError, match='seed: this model has no style code'):
        s(np.zeros((8, 8), np.int64), seed=7)
