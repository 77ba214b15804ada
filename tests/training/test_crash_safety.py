"""A checkpoint set survives kill -9 at any moment: a training process killed (SIGKILL, through the
SEMSYN_KILL_AT test hook) inside a save -- in the middle of a file's bytes, after its parts, at the
commit point, between the renames -- then resumed with --continue_train, ends bit-exact with an
uninterrupted run, with every epoch snapshot and no temporary files left. A set whose files were
mixed by hand is refused."""
import os
import signal
import subprocess
import sys

import pytest

from semsyn.checkpoint_sets import verify_set
from semsyn.fileio import load_untrusted
from semsyn.options import resolve
from semsyn.training import loop
from tests.conftest import REPO

from .helpers import same_state

pytestmark = pytest.mark.slow

COMMON = ['--gpu_ids', '-1', '--dataset_mode', 'synthetic', '--synthetic_size', '8', '--crop_size', '32', '--ngf',
          '4', '--ndf', '8', '--no_vgg_loss', '--batchSize', '2', '--niter', '2', '--niter_decay', '1',
          '--save_latest_freq', '4', '--save_epoch_freq', '1', '--print_freq', '4', '--display_freq', '8',
          '--no_html', '--ema', '--ema_decay', '0.9']
METHODS = {
    'spade': [],
    'ccfpse': ['--netG', 'condconv', '--netD', 'fpse', '--lambda_feat', '20', '--crop_size', '64'],
    'scgan': ['--netG', 'scg', '--netD', 'fpse', '--nrf', '4', '--nff', '4', '--num_experts_conv', '2',
              '--num_experts_norm', '2', '--no_instance', '--crop_size', '64'],
    # its discriminator's widths are fixed (a slow step): two epochs of two iterations; its EMA keeps
    # running statistics, which a repeated statistics pass would move
    'oasis': ['--netG', 'oasis', '--channels_G', '2', '--label_nc', '4', '--crop_size', '64', '--synthetic_size',
              '2', '--batchSize', '1', '--niter', '2', '--niter_decay', '0', '--save_latest_freq', '2',
              '--ema_bn_batches', '2'],
}
# (method, kill point): inside each kind of file write of a save, and at each step of making a set visible
# and what the next start says: parts of an uncommitted save are removed, a committed one is finished
DROPPED, FINISHED = 'temporary file(s) of interrupted writes', 'completed the interrupted save'
KILLS = [
    ('spade', 'write:latest_train_state.pth#2', DROPPED),  # in the middle of the training state's bytes
    ('spade', 'write:2_net_G.pth', DROPPED),               # in the middle of an epoch snapshot
    ('spade', 'rename:latest_net_D.pth#3', FINISHED),      # after the commit point, between the renames
    ('ccfpse', 'written:latest_net_G.pth#2', DROPPED),     # a whole part written, before the commit point
    ('scgan', 'write:1_net_A.pth', DROPPED),               # the EMA generator of an epoch snapshot
    ('scgan', 'commit:latest#4', FINISHED),                # right after the commit point
    ('oasis', 'write:1_net_A.pth', DROPPED),               # the snapshot after a latest at the same step
]


def args(tmp_path, method, name, *extra):
    return COMMON + METHODS[method] + ['--checkpoints_dir', str(tmp_path), '--name', name] + list(extra)


@pytest.fixture(scope='module')
def references(tmp_path_factory):
    """Uninterrupted runs, one per method."""
    root = tmp_path_factory.mktemp('uninterrupted')
    for method in METHODS:
        loop.train(resolve(args(root, method, method)))
    return root


def final_files(run):
    return sorted(n for n in os.listdir(run) if n.endswith('.pth'))


@pytest.mark.parametrize('method,point,note', KILLS, ids=[f'{m}-{p}' for m, p, _ in KILLS])
def test_killed_during_a_save_resumes_bit_exact(method, point, note, tmp_path, references, capsys):
    env = dict(os.environ, SEMSYN_KILL_AT=point, PYTHONPATH=str(REPO / 'code'))
    proc = subprocess.run([sys.executable, str(REPO / 'train.py'), *args(tmp_path, method, 'run')], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    run = tmp_path / 'run'
    loop.train(resolve(args(tmp_path, method, 'run', '--continue_train')))
    out = capsys.readouterr().out
    assert note in out and 'resuming from' in out
    reference = references / method
    assert final_files(run) == final_files(reference)  # every epoch snapshot is there
    for name in final_files(reference):
        assert same_state(load_untrusted(run / name), load_untrusted(reference / name)), f'{name} differs'
    assert not [n for n in os.listdir(run) if n.startswith('.')]  # no parts, temp files or journals
    labels = {name.split('_net_')[0] for name in final_files(reference) if '_net_' in name}
    assert {'latest', '1', '2'} <= labels
    for label in labels:
        assert verify_set(str(run), label) is None


def test_a_mixed_set_is_refused(tmp_path, capsys):
    loop.train(resolve(args(tmp_path, 'spade', 'mixed', '--niter', '1', '--niter_decay', '1')))
    run = tmp_path / 'mixed'
    # latest's discriminator replaced by the epoch-1 one: the set no longer matches its manifest
    (run / 'latest_net_D.pth').unlink()
    (run / 'latest_net_D.pth').write_bytes((run / '1_net_D.pth').read_bytes())
    opt = resolve(args(tmp_path, 'spade', 'mixed', '--niter', '1', '--niter_decay', '2', '--continue_train'))
    loop.train(opt)
    out = capsys.readouterr().out
    assert "checkpoint set 'latest' is not usable (latest_net_D.pth is not the file its manifest names" in out
    assert "resuming from the consistent set '2'" in out and 'optimizers restart' in out
    assert verify_set(str(run), 'latest') is None and (run / '3_net_G.pth').is_file()
