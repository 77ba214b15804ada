"""The entry points as a user runs them: one-line errors, exit status 2, nothing overwritten."""
import subprocess
import sys

import pytest
import torch

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def run(script, *args, cwd=None):
    return subprocess.run([sys.executable, str(REPO / script), *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def assert_one_line_error(proc, *fragments):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


TINY = ['--gpu_ids', '-1', '--dataset_mode', 'synthetic', '--synthetic_size', '2', '--crop_size', '32', '--ngf', '4',
        '--ndf', '8', '--no_vgg_loss', '--batchSize', '2', '--niter', '1', '--print_freq', '2']


def test_train_and_test_scripts_end_to_end_and_refuse_bad_input(tmp_path):
    ck = str(tmp_path / 'ck')
    ok = run('train.py', *TINY, '--checkpoints_dir', ck, '--name', 'cli')
    assert ok.returncode == 0, ok.stderr
    weights = tmp_path / 'ck' / 'cli' / 'latest_net_G.pth'
    before = weights.read_bytes()

    # a fresh run under an existing name is refused instead of overwriting it
    again = run('train.py', *TINY, '--checkpoints_dir', ck, '--name', 'cli')
    assert_one_line_error(again, str(tmp_path / 'ck' / 'cli'), '--continue_train')

    # a checkpoint that doesn't fit the options names the file and the mismatch
    bad = run('test.py', '--gpu_ids', '-1', '--dataset_mode', 'synthetic', '--crop_size', '32', '--ngf', '8',
              '--checkpoints_dir', ck, '--name', 'cli', '--results_dir', str(tmp_path / 'res'))
    assert_one_line_error(bad, 'latest_net_G.pth', 'shape')
    assert not (tmp_path / 'res').exists()

    good = run('test.py', '--gpu_ids', '-1', '--dataset_mode', 'synthetic', '--synthetic_size', '2',
               '--crop_size', '32', '--ngf', '4', '--checkpoints_dir', ck, '--name', 'cli',
               '--results_dir', str(tmp_path / 'res'))
    assert good.returncode == 0, good.stderr
    assert 'index.html' in good.stdout
    assert weights.read_bytes() == before


def test_bad_config_and_missing_data(tmp_path):
    cfg = tmp_path / 'bad.yml'
    cfg.write_text('batchSize: many\n')
    assert_one_line_error(run('train.py', '--config', str(cfg), '--gpu_ids', '-1'), 'batchSize', str(cfg))
    empty = tmp_path / 'empty'
    empty.mkdir()
    proc = run('train.py', '--gpu_ids', '-1', '--dataset_mode', 'coco', '--dataroot', str(empty), '--no_vgg_loss',
               '--checkpoints_dir', str(tmp_path / 'ck'), '--name', 'x')
    assert_one_line_error(proc, str(empty))
    assert not (tmp_path / 'ck' / 'x' / 'opt.yml').exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the error on a machine without CUDA')
def test_gpu_ids_without_cuda(tmp_path):
    proc = run('train.py', *TINY, '--gpu_ids', '0', '--checkpoints_dir', str(tmp_path), '--name', 'g')
    assert_one_line_error(proc, '--gpu_ids 0', 'CUDA')


def test_label_out_of_range_stops_training_with_the_file_name(tmp_path):
    import numpy as np
    from PIL import Image
    for sub in ('labels', 'images'):
        (tmp_path / sub).mkdir()
    for i in range(2):
        lab = np.zeros((32, 32), np.uint8)
        lab[:4, :4] = 3 if i == 0 else 9  # 9 is outside --label_nc 4
        Image.fromarray(lab).save(tmp_path / 'labels' / f'{i}.png')
        Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / 'images' / f'{i}.jpg')
    proc = run('train.py', '--gpu_ids', '-1', '--dataset_mode', 'custom', '--label_dir', str(tmp_path / 'labels'),
               '--image_dir', str(tmp_path / 'images'), '--label_nc', '4', '--no_instance', '--crop_size', '32',
               '--load_size', '32', '--ngf', '4', '--ndf', '8', '--no_vgg_loss', '--batchSize', '2',
               '--checkpoints_dir', str(tmp_path / 'ck'), '--name', 'lab', '--nThreads', '1')
    assert_one_line_error(proc, '1.png', '9')


def test_missing_vgg_weights_stop_training_at_start_up(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv('SEMSYN_OFFLINE', '1')
    args = [a for a in TINY if a != '--no_vgg_loss']
    proc = run('train.py', *args, '--checkpoints_dir', str(tmp_path / 'ck'), '--name', 'v')
    assert_one_line_error(proc, 'vgg19-dcbb9e9d.pth', str(tmp_path / 'torch_home'), '--vgg_weights')
    assert not (tmp_path / 'ck' / 'v' / 'opt.yml').exists()
