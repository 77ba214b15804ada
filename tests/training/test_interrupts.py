"""SIGINT (Ctrl-C) and SIGTERM during training: the save in progress finishes, the run stops at the
end of the iteration with one line naming where it stopped and the last complete save, exits 130 or
143, and --continue_train then ends bit-exact with an uninterrupted run."""
import os
import signal
import subprocess
import sys
import time

import pytest

from semsyn.checkpoint_sets import verify_set
from semsyn.fileio import load_untrusted
from semsyn.options import resolve
from semsyn.training import loop
from tests.conftest import REPO
from tests.training.test_crash_safety import args, final_files, same_state

pytestmark = pytest.mark.slow


def start(tmp_path, name, *extra, **env):
    env = dict(os.environ, PYTHONPATH=str(REPO / 'code'), PYTHONUNBUFFERED='1', **env)
    return subprocess.Popen([sys.executable, str(REPO / 'train.py'), *args(tmp_path, 'spade', name, *extra)],
                            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp('uninterrupted')
    loop.train(resolve(args(root, 'spade', 'spade')))
    return root / 'spade'


# the signal arrives in the middle of the second save of latest's training state: that save finishes,
# the run stops right after it
@pytest.mark.parametrize('sig', ['SIGINT', 'SIGTERM'])
def test_a_signal_during_a_save_finishes_it_and_resumes_bit_exact(sig, tmp_path, reference, capsys):
    proc = start(tmp_path, 'run', SEMSYN_KILL_AT='write:latest_train_state.pth#2', SEMSYN_KILL_SIGNAL=sig)
    out, err = proc.communicate(timeout=600)
    signum = getattr(signal, sig)
    assert proc.returncode == 128 + signum, err[-2000:]
    lines = err.strip().splitlines()
    assert 'Traceback' not in err
    assert lines[-1] == (f"interrupted ({sig}) at epoch 1, iteration 4; the last complete save is 'latest' (epoch 1, "
                         f"iteration 4); resume with --continue_train"), err
    run = tmp_path / 'run'
    assert verify_set(str(run), 'latest') is None
    assert not [n for n in os.listdir(run) if n.startswith('.')]  # nothing half-written left
    loop.train(resolve(args(tmp_path, 'spade', 'run', '--continue_train')))
    assert 'resuming from' in capsys.readouterr().out
    assert final_files(run) == final_files(reference)
    for name in final_files(reference):
        assert same_state(load_untrusted(run / name), load_untrusted(reference / name)), f'{name} differs'


def wait_for(proc, text, timeout=300):
    """Read proc's stdout until a line holding `text`."""
    end = time.time() + timeout
    for line in proc.stdout:
        if text in line:
            return
        assert time.time() < end, f'no line with {text!r}'
    raise AssertionError(f'the run ended before printing {text!r}: {proc.stderr.read()[-2000:]}')


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM])
def test_a_signal_from_outside_stops_with_one_line(sig, tmp_path):
    """As a terminal or a scheduler sends it, at any moment of a long run."""
    proc = start(tmp_path, 'long', '--niter', '1000')
    wait_for(proc, 'saving the latest model')
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 128 + sig, err[-2000:]
    assert 'Traceback' not in err
    line = err.strip().splitlines()[-1]
    assert line.startswith(f'interrupted ({signal.Signals(sig).name}) at epoch ') and \
        "the last complete save is 'latest' (" in line and line.endswith('resume with --continue_train'), line
    assert verify_set(str(tmp_path / 'long'), 'latest') is None


def test_a_signal_before_any_save_says_so(tmp_path):
    proc = start(tmp_path, 'early', '--niter', '1000', '--synthetic_size', '400', '--save_latest_freq', '100000')
    wait_for(proc, 'dataset [')
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-2000:]
    line = err.strip().splitlines()[-1]
    assert line.startswith('interrupted (SIGINT) ') and line.endswith('no save is complete yet; run again to start '
                                                                      'over'), line
