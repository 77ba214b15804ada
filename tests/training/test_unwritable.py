"""A run folder that can't be written: read-only at start-up, or a disk that fills during the run.
One line naming the folder and the reason, exit status 2, and the checkpoint sets already written
untouched. Real file systems: small tmpfs mounts (root only; skipped elsewhere)."""
import os
import subprocess

import pytest

from semsyn import cli
from semsyn.checkpoint_sets import verify_set
from tests.training.test_crash_safety import args

pytestmark = pytest.mark.slow


@pytest.fixture
def mount(tmp_path):
    mounted = []

    def make(name, *options):
        point = tmp_path / name
        point.mkdir()
        proc = subprocess.run(['mount', '-t', 'tmpfs', '-o', ','.join(options), 'tmpfs', str(point)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f'cannot mount a tmpfs here: {proc.stderr.strip()}')
        mounted.append(point)
        return point
    yield make
    for point in mounted:
        subprocess.run(['umount', str(point)])


def one_error(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('error: '), err
    return err[0]


def test_a_read_only_folder_stops_at_start_up(mount, capsys):
    ck = mount('ro', 'size=1m', 'ro')
    with pytest.raises(SystemExit) as exit_info:
        cli.train_main(args(ck, 'spade', 'run'))
    assert exit_info.value.code == 2
    assert one_error(capsys) == (f'error: cannot write the run folder {ck / "run"}: Read-only file system; make it '
                                 f'writable or choose another folder')


def test_a_full_disk_during_a_save_is_one_line_and_loses_nothing(mount, capsys, tmp_path):
    # room for the probe, opt.yml, the log and the first sets, not for the run's later saves
    probe = tmp_path / 'probe'
    cli.train_main(args(probe, 'spade', 'run', '--niter', '1', '--niter_decay', '0'))
    one_set = sum(os.path.getsize(probe / 'run' / n) for n in os.listdir(probe / 'run') if n.startswith('latest'))
    ck = mount('small', f'size={int(one_set * 2.5) // 4096 * 4096}')
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        cli.train_main(args(ck, 'spade', 'run', '--keep_last', '0'))
    assert exit_info.value.code == 2
    line = one_error(capsys)
    assert line.startswith("error: cannot write checkpoint set '") and \
        f"in {ck / 'run'}: No space left on device" in line, line
    run = ck / 'run'
    assert verify_set(str(run), 'latest') is None  # the last complete save is intact
    assert not [n for n in os.listdir(run) if n.endswith(('.part', '.tmp'))]
