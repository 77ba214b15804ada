"""--continue_train resumes exactly: an interrupted run ends with the same weights as an uninterrupted one."""
import pytest
import torch

from semsyn.fileio import load_untrusted
from semsyn.options import resolve
from semsyn.training import loop
from semsyn.training.trainer import Trainer, learning_rate

from .helpers import assert_same_networks, same_state

pytestmark = pytest.mark.slow

ARGS = ['--gpu_ids', '-1', '--dataset_mode', 'synthetic', '--synthetic_size', '8', '--crop_size', '64', '--ngf', '4',
        '--ndf', '8', '--no_vgg_loss', '--batchSize', '2', '--niter', '1', '--niter_decay', '2', '--use_vae',
        '--save_latest_freq', '4', '--print_freq', '2', '--display_freq', '4', '--D_steps_per_G', '2',
        '--ema', '--ema_bn_batches', '2']


def run_args(tmp_path, name, *extra):
    return ARGS + ['--checkpoints_dir', str(tmp_path), '--name', name] + list(extra)


def train_interrupted(monkeypatch, opt, at_call):
    """Train with a KeyboardInterrupt at the ``at_call``-th D step (its G step has run)."""
    original = Trainer.run_discriminator_one_step
    calls = {'n': 0}

    def interrupted(self, *args):
        calls['n'] += 1
        if calls['n'] == at_call:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(Trainer, 'run_discriminator_one_step', interrupted)
    with pytest.raises(KeyboardInterrupt):
        loop.train(opt)
    monkeypatch.setattr(Trainer, 'run_discriminator_one_step', original)


def test_interrupted_run_resumes_exactly(tmp_path, monkeypatch):
    loop.train(resolve(run_args(tmp_path, 'straight')))
    # epoch 2, 4th batch: the last save was after its 2nd batch
    train_interrupted(monkeypatch, resolve(run_args(tmp_path, 'resumed')), 8)
    state = load_untrusted(tmp_path / 'resumed' / 'latest_train_state.pth')
    assert state['progress'] == {'epoch': 2, 'batches_done': 2, 'total_samples': 12, 'best_fid': float('inf')}
    loop.train(resolve(run_args(tmp_path, 'resumed', '--continue_train')))

    assert_same_networks(tmp_path / 'straight', tmp_path / 'resumed', 'GDEA')
    # the EMA generator's batch norms were recalibrated (--ema_bn_batches), not copied from G
    a, g = (load_untrusted(tmp_path / 'straight' / f'latest_net_{r}.pth') for r in 'AG')
    key = 'head_0.norm_0.param_free_norm.running_mean'
    assert not torch.equal(a[key], g[key])
    sa = load_untrusted(tmp_path / 'straight' / 'latest_train_state.pth')
    sb = load_untrusted(tmp_path / 'resumed' / 'latest_train_state.pth')
    assert sa['progress'] == sb['progress'] and sa['trainer']['lr'] == sb['trainer']['lr']


# OASIS: its 3D noise and LabelMix coins are draws of the global generators, its EMA generator has its
# batch-norm statistics recomputed before each save; its discriminator's widths are fixed (a slow step)
OASIS = ['--gpu_ids', '-1', '--dataset_mode', 'synthetic', '--synthetic_size', '2', '--crop_size', '64',
         '--label_nc', '4', '--netG', 'oasis', '--channels_G', '2', '--batchSize', '1', '--niter', '1',
         '--save_latest_freq', '1', '--print_freq', '1', '--display_freq', '2', '--ema_decay', '0.9',
         '--ema_bn_batches', '2', '--no_html']


def test_oasis_interrupted_run_resumes_exactly(tmp_path, monkeypatch):
    def oasis_args(name, *extra):
        return OASIS + ['--checkpoints_dir', str(tmp_path), '--name', name] + list(extra)

    loop.train(resolve(oasis_args('straight')))
    # the 2nd batch, after its G step drew its noise: the last save was after the 1st
    train_interrupted(monkeypatch, resolve(oasis_args('resumed')), 2)
    state = load_untrusted(tmp_path / 'resumed' / 'latest_train_state.pth')
    assert state['progress'] == {'epoch': 1, 'batches_done': 1, 'total_samples': 1, 'best_fid': float('inf')}
    loop.train(resolve(oasis_args('resumed', '--continue_train')))

    assert_same_networks(tmp_path / 'straight', tmp_path / 'resumed', 'GDA')
    a, g = (load_untrusted(tmp_path / 'straight' / f'latest_net_{r}.pth') for r in 'AG')
    key = 'body.0.norm_0.first_norm.running_mean'  # recomputed for the EMA weights, not G's
    assert not torch.equal(a[key], g[key])
    assert not torch.equal(a['conv_img.weight'], g['conv_img.weight'])
    sa = load_untrusted(tmp_path / 'straight' / 'latest_train_state.pth')
    sb = load_untrusted(tmp_path / 'resumed' / 'latest_train_state.pth')
    assert same_state(sa['trainer'], sb['trainer']) and sa['progress'] == sb['progress']
    assert same_state(sa['rng'], sb['rng'])  # the generators the noise and LabelMix draw from


def test_resume_without_state_starts_the_next_epoch(tmp_path):
    loop.train(resolve(run_args(tmp_path, 'ep', '--save_epoch_freq', '1', '--niter_decay', '0')))
    (tmp_path / 'ep' / 'latest_train_state.pth').unlink()
    opt = resolve(run_args(tmp_path, 'ep', '--continue_train', '--which_epoch', '1', '--niter_decay', '1'))
    loop.train(opt)
    assert (tmp_path / 'ep' / '2_net_G.pth').is_file()


def test_learning_rate_schedule_is_spades():
    opt = resolve(['--gpu_ids', '-1', '--niter', '2', '--niter_decay', '4', '--lr', '0.0004'])
    assert [learning_rate(opt, e) for e in range(7)] == pytest.approx(
        [0.0004, 0.0004, 0.0004, 0.0003, 0.0002, 0.0001, 0.0])
