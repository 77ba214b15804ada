"""One training run per run folder: a second train.py on a folder being trained is refused with one
line naming the folder and the holder; a holder killed with kill -9 leaves no lock behind; test.py
reads a folder being trained."""
import os
import signal
import socket
import subprocess
import sys

import pytest

from semsyn.errors import UserError
from semsyn.training.lock import LOCK_FILE, RunLock
from tests.conftest import REPO
from tests.training.test_crash_safety import args
from tests.training.test_interrupts import start, wait_for

pytestmark = pytest.mark.slow


def test_a_second_lock_on_a_folder_is_refused_and_a_released_one_is_free(tmp_path):
    first = RunLock(str(tmp_path)).acquire()
    with pytest.raises(UserError) as refusal:
        RunLock(str(tmp_path)).acquire()
    assert f'{tmp_path} is in use by another training run (pid {os.getpid()} on {socket.gethostname()}' \
        in str(refusal.value)
    first.release()
    assert not (tmp_path / LOCK_FILE).exists()
    RunLock(str(tmp_path)).acquire().release()


def test_two_processes_on_one_folder(tmp_path):
    first = start(tmp_path, 'shared', '--niter', '1000')
    try:
        wait_for(first, 'saving the latest model')
        env = dict(os.environ, PYTHONPATH=str(REPO / 'code'))
        second = subprocess.run([sys.executable, str(REPO / 'train.py'),
                                 *args(tmp_path, 'spade', 'shared', '--niter', '1000')],
                                env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert second.returncode == 2, second.stderr
        assert second.stderr.strip().splitlines() == [
            f'error: {tmp_path / "shared"} is in use by another training run (pid {first.pid} on '
            f'{socket.gethostname()}, since ' + second.stderr.split(', since ', 1)[1].strip()], second.stderr
        # a reader of the folder being trained is not refused
        reader = subprocess.run([sys.executable, str(REPO / 'test.py'), '--checkpoints_dir', str(tmp_path), '--name',
                                 'shared', '--load_from_opt_file', '--gpu_ids', '-1', '--results_dir',
                                 str(tmp_path / 'results'), '--how_many', '2'],
                                env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert reader.returncode == 0, reader.stderr[-2000:]
        assert first.poll() is None  # still training
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # its holder killed with kill -9: the lock is stale, the next run takes it
    assert (tmp_path / 'shared' / LOCK_FILE).exists()
    again = start(tmp_path, 'shared', '--continue_train', '--niter', '1')
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err[-2000:]
    assert not (tmp_path / 'shared' / LOCK_FILE).exists()  # released at the end
