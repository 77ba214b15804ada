"""SCGAN trains and tests end to end on CPU: on synthetic data, and with the original SCGAN command
lines (train.sh, test.py --config ... --fid --gt ... --visual_n 1) on the celebamask_hq and ade20k samples."""
import json
import os
import subprocess
import sys

import pytest
import torch
import yaml

from tests.conftest import DATASETS, REPO, require
from tests.training.helpers import synthesize_run, train_run
from tests.training.test_end_to_end import check_results, check_run

pytestmark = pytest.mark.slow

# the released configs' networks are far too large for a CPU test: shrink them on the command line,
# which wins over the config file
TINY_NETS = ['--ngf', '4', '--nrf', '4', '--nff', '4', '--crop_size', '64', '--load_size', '64', '--nThread', '0']
TINY = TINY_NETS + ['--ndf', '8', '--niter', '1', '--niter_decay', '0', '--batchSize', '2', '--no_vgg_loss',
                    '--rw_loss', 'l1', '--print_freq', '2', '--display_freq', '2']


def test_scgan_synthetic_with_ema_and_routing_loss(tmp_path):
    train_run(tmp_path, 'sc', '--netG', 'scg', '--netD', 'fpse', '--nrf', '4', '--nff', '4', '--dataset_mode',
              'synthetic', '--synthetic_size', '2', '--crop_size', '64', '--no_instance', '--ema',
              '--lambda_w_recon', '2', '--num_experts_conv', '3', '--num_experts_norm', '4')
    check_run(tmp_path, 'sc', roles=('G', 'D', 'A'))
    log = (tmp_path / 'ck' / 'sc' / 'loss_log.txt').read_text()
    assert 'W_Recon_l1: ' in log
    _, page = synthesize_run(tmp_path, 'sc', '--netG', 'scg', '--nrf', '4', '--nff', '4', '--dataset_mode',
                             'synthetic', '--synthetic_size', '2', '--crop_size', '64', '--no_instance',
                             '--num_experts_conv', '3', '--num_experts_norm', '4')
    assert check_results(page, 2) == (64, 64)


def run(args, env):
    proc = subprocess.run(args, capture_output=True, text=True, env=env, cwd=REPO, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_original_celeba_command_lines(tmp_path, fid_env):
    root = require(DATASETS / 'celebamask_hq', 'celebamask_hq sample dataset')
    env = dict(os.environ, GPU_IDS='-1', DATAROOT=str(root), PY=sys.executable)
    ck = ['--checkpoints_dir', str(tmp_path / 'ck')]
    run([str(REPO / 'train.sh'), 'scgan_celeba', *TINY, *ck, '--fid_epoch', '1'], env)
    run_dir = tmp_path / 'ck' / 'scgan-celeba'
    for role in 'GDE':
        assert (run_dir / f'best_net_{role}.pth').is_file(), role
    assert not (run_dir / 'best_net_A.pth').exists()  # SCGAN trains without an EMA generator
    opt = yaml.safe_load((run_dir / 'opt.yml').read_text())
    assert opt['netG'] == 'scg' and opt['use_vae'] and opt['position'] and opt['pyr_pos'] and not opt['ema']
    # the original README's test command, on CPU
    proc = run([sys.executable, 'test.py', '--gpu_ids', '-1', '--dataset_mode', 'celeba', '--config',
                'config/scgan_celeba-test.yml', '--fid', '--gt', str(root / 'CelebA-HQ-img'), '--visual_n', '1',
                '--dataroot', str(root), '--results_dir', str(tmp_path / 'res'), *ck, *TINY_NETS],
               env)
    assert 'FID: ' in proc.stdout and 'latest_net_A.pth' not in proc.stdout
    result = json.loads((tmp_path / 'res' / 'scgan-celeba' / 'test_latest' / 'fid.json').read_text())
    assert result['num_fake'] == 4 and result['num_real'] == 4 and result['fid'] > 0


def test_scgan_ade20k_sample(tmp_path):
    root = str(require(DATASETS / 'ade20k', 'ade20k sample dataset'))
    args = ['--config', str(REPO / 'config' / 'scgan_ade20k.yml'), '--dataroot', root, '--phase', 'val',
            '--fid_epoch', '0', '--ema']
    opt = train_run(tmp_path, 'ade', *args, *TINY)
    assert opt.ade20k_raw_labels and opt.semantic_nc == 151 and opt.netD == 'fpse'
    check_run(tmp_path, 'ade', roles=('G', 'D', 'A'))
    _, page = synthesize_run(tmp_path, 'ade', '--config', str(REPO / 'config' / 'scgan_ade20k.yml'), '--dataroot',
                             root, '--phase', 'val', *TINY_NETS)
    assert check_results(page, 3) == (64, 64)
    sd = torch.load(tmp_path / 'ck' / 'ade' / 'latest_net_G.pth', weights_only=True)
    assert 'pyramid_spaital_routing.toRGB.0.weight' in sd
