"""Multi-process training on CPU (gloo): torchrun runs, parameters agree across ranks, and
2 processes x batch 1 with synchronised batch norm equal 1 process x batch 2."""
import os
import socket
import subprocess
import sys

import pytest
import torch
import torch.multiprocessing as mp

from tests.conftest import REPO

from .helpers import assert_same_networks

pytestmark = pytest.mark.slow

COMMON = ['--gpu_ids', '-1', '--dataset_mode', 'synthetic', '--synthetic_size', '2', '--crop_size', '32', '--ngf', '4',
          '--ndf', '8', '--no_vgg_loss', '--niter', '1', '--serial_batches', '--no_flip', '--print_freq', '2']


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_torchrun_two_processes_agree_and_resume(tmp_path):
    torchrun = os.path.join(os.path.dirname(sys.executable), 'torchrun')
    args = [torchrun, '--nproc_per_node', '2', '--master_port', str(free_port()), str(REPO / 'train.py'), *COMMON,
            '--batchSize', '1', '--checkpoints_dir', str(tmp_path), '--name', 'ddp', '--netG', 'condconv',
            '--netD', 'fpse', '--use_vae', '--crop_size', '64', '--save_latest_freq', '2']
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'parameters identical across 2 processes' in proc.stdout
    assert (tmp_path / 'ddp' / 'latest_net_G.pth').is_file() and (tmp_path / 'ddp' / 'latest_net_E.pth').is_file()
    state = torch.load(tmp_path / 'ddp' / 'latest_train_state.pth', weights_only=True)
    assert state['world_size'] == 2 and len(state['rng']) == 2
    args[args.index('--niter') + 1] = '2'
    args[args.index('--master_port') + 1] = str(free_port())
    proc = subprocess.run(args + ['--continue_train'], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'resuming from' in proc.stdout and 'parameters identical across 2 processes' in proc.stdout


def test_torchrun_oasis_keeps_one_ema_generator_and_resumes_exactly(tmp_path):
    """OASIS's EMA generator is copied from G before DDP gives G rank 0's initial weights, and its
    statistics pass draws OASIS's noise per process: both must leave every rank the same EMA weights.
    Two epochs straight equal one epoch and a --continue_train to the second."""
    def torchrun(name, niter, *extra):
        args = [os.path.join(os.path.dirname(sys.executable), 'torchrun'), '--nproc_per_node', '2',
                '--master_port', str(free_port()), str(REPO / 'train.py'), *COMMON, '--batchSize', '1',
                '--checkpoints_dir', str(tmp_path), '--name', name, '--netG', 'oasis', '--channels_G', '2',
                '--label_nc', '4', '--crop_size', '64', '--ema_decay', '0.9', '--ema_bn_batches', '1', '--no_html',
                '--niter', str(niter), *extra]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert 'parameters identical across 2 processes' in proc.stdout  # netA included
        return proc.stdout

    torchrun('straight', 2)
    torchrun('resumed', 1)
    assert 'resuming from' in torchrun('resumed', 2, '--continue_train')
    assert_same_networks(tmp_path / 'straight', tmp_path / 'resumed', 'GDA')


def _train_worker(rank, world, port, argv, sgd):
    """One process of a gloo run with the optimizers replaced by SGD (Adam's first step is about
    lr*sign(g), which would turn float noise in near-zero gradients into differences of 2*lr)."""
    os.environ.update({'RANK': str(rank), 'LOCAL_RANK': str(rank), 'WORLD_SIZE': str(world),
                       'MASTER_ADDR': '127.0.0.1', 'MASTER_PORT': str(port)})
    if world == 1:
        os.environ.pop('WORLD_SIZE')
    if sgd:
        torch.optim.Adam = lambda params, lr, betas, **kw: torch.optim.SGD(params, lr=lr)
    from semsyn.options import resolve
    from semsyn.training.loop import train
    train(resolve(argv))


def test_two_processes_batch_1_equal_one_process_batch_2(tmp_path):
    runs = {}
    for name, world, batch in (('ddp', 2, '1'), ('single', 1, '2')):
        argv = COMMON + ['--batchSize', batch, '--checkpoints_dir', str(tmp_path), '--name', name, '--lr', '0.01',
                         '--crop_size', '64',
                         '--netG', 'spade']
        mp.spawn(_train_worker, args=(world, free_port(), argv, True), nprocs=world, join=True)
        runs[name] = {r: torch.load(tmp_path / name / f'latest_net_{r}.pth', weights_only=True) for r in 'GD'}
    worst = 0.0
    for role in 'GD':
        a, b = runs['ddp'][role], runs['single'][role]
        assert a.keys() == b.keys()
        for key in a:
            if a[key].is_floating_point():
                scale = max(1.0, b[key].abs().max().item())
                worst = max(worst, (a[key] - b[key]).abs().max().item() / scale)
    print(f'2 x batch 1 (SyncBN) vs 1 x batch 2: max relative parameter difference {worst:.2e}')
    assert worst < 1e-5
