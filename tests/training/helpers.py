"""Small-run helpers for end-to-end tests: tiny networks, few samples, CPU."""
import os
import re

import torch

from semsyn.fileio import load_untrusted
from semsyn.options import resolve
from semsyn.testing import run_test
from semsyn.training.loop import train

TINY = ['--gpu_ids', '-1', '--ngf', '4', '--ndf', '8', '--no_vgg_loss', '--batchSize', '2', '--niter', '1',
        '--niter_decay', '0', '--print_freq', '2', '--display_freq', '2', '--nThreads', '0']


def tiny_args(tmp_path, name, *extra):
    return TINY + ['--checkpoints_dir', str(tmp_path / 'ck'), '--name', name] + list(extra)


def train_run(tmp_path, name, *extra):
    opt = resolve(tiny_args(tmp_path, name, *extra), is_train=True)
    train(opt)
    return opt


def synthesize_run(tmp_path, name, *extra):
    args = ['--gpu_ids', '-1', '--ngf', '4', '--checkpoints_dir', str(tmp_path / 'ck'), '--name', name,
            '--results_dir', str(tmp_path / 'results'), '--batchSize', '2'] + list(extra)
    opt = resolve(args, is_train=False)
    return opt, run_test(opt)


LOSS_LINE = re.compile(r'\(epoch: \d+, iters: \d+, time: [\d.]+\) (.*)')


def logged_losses(run_dir):
    """All loss values of loss_log.txt as a list of dicts."""
    out = []
    with open(os.path.join(run_dir, 'loss_log.txt')) as f:
        for line in f:
            m = LOSS_LINE.match(line.strip())
            if m:
                pairs = re.findall(r'(\w+): (\S+)', m.group(1))
                out.append({k: float(v) for k, v in pairs})
    return out


def same_state(a, b):
    """Nested dicts/lists of tensors and values equal exactly (tensors by torch.equal)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_state(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_state(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    return a == b


def assert_same_networks(first, second, roles):
    """The latest networks of the run folders ``first`` and ``second`` equal exactly, per role."""
    for role in roles:
        a = load_untrusted(first / f'latest_net_{role}.pth')
        b = load_untrusted(second / f'latest_net_{role}.pth')
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), f'{role}.{key} differs after resume'
