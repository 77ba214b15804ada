"""python -m semsyn.app: bad input ends as one line 'error: ...' with exit status 2 and touches nothing;
a good run folder is served at the URL it prints."""
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from semsyn.app.__main__ import main
from semsyn.errors import run_main
from tests.app.helpers import request

REPO = Path(__file__).resolve().parents[2]


def fails(capsys, argv):
    """The one line on stderr of main(argv), which must exit with status 2."""
    with pytest.raises(SystemExit) as exit_info:
        run_main(main, argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and err.count('\n') == 1, err
    return err


def snapshot(folder):
    return {p: p.stat().st_mtime_ns for p in Path(folder).rglob('*')}


def test_no_such_folder(capsys, tmp_path):
    assert 'no such folder' in fails(capsys, [str(tmp_path / 'nope')])
    assert 'no such folder' in fails(capsys, ['--name', 'nope', '--checkpoints_dir', str(tmp_path)])


def test_a_folder_without_opt_yml(capsys, tmp_path):
    assert 'no opt.yml' in fails(capsys, [str(tmp_path)])
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_neither_or_both_ways_of_naming_the_run(capsys, tmp_path):
    assert 'one of them' in fails(capsys, [])
    assert 'one of them' in fails(capsys, [str(tmp_path), '--name', 'x'])


def test_a_run_without_that_checkpoint(capsys, tiny_run, tmp_path):
    run = tmp_path / 'copy'
    run.mkdir()
    shutil.copy(tiny_run / 'opt.yml', run)
    assert 'not found' in fails(capsys, [str(run)])
    assert 'not found' in fails(capsys, [str(tiny_run), '--which_epoch', '7'])


def test_a_checkpoint_that_does_not_fit(capsys, tiny_run, tmp_path):
    run = tmp_path / 'other'
    shutil.copytree(tiny_run, run)
    text = (run / 'opt.yml').read_text().replace('ngf: 4', 'ngf: 8')  # the options of another network
    (run / 'opt.yml').write_text(text)
    before = snapshot(run)
    fails(capsys, [str(run)])
    assert snapshot(run) == before


def test_bad_device_port_and_names(capsys, tiny_run, tmp_path):
    assert '--device' in fails(capsys, [str(tiny_run), '--device', 'toaster'])
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        assert 'cannot serve on' in fails(capsys, [str(tiny_run), '--port', str(taken.getsockname()[1])])
    names = tmp_path / 'names.txt'
    names.write_text('\n'.join(f'class {k}' for k in range(9)))
    assert '9 lines' in fails(capsys, [str(tiny_run), '--class_names', str(names)])


def test_the_module_serves_the_run_at_the_url_it_prints(tiny_run, tmp_path):
    before = snapshot(tiny_run)
    names = tmp_path / 'names.txt'
    names.write_text('sky\ngrass\n')
    env = {**os.environ, 'PYTHONPATH': str(REPO / 'code') + os.pathsep + os.environ.get('PYTHONPATH', '')}
    process = subprocess.Popen([sys.executable, '-m', 'semsyn.app', str(tiny_run), '--port', '0',
                                '--class_names', str(names)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = []
        while not lines or ('http://' not in lines[-1] and lines[-1]):  # (other lines may come first)
            lines.append(process.stdout.readline())
        assert 'http://127.0.0.1:' in lines[-1], ''.join(lines) + process.stderr.read()
        url = next(word for word in lines[-1].split() if word.startswith('http://'))
        status, _, body = request(url + 'api/info')
        assert status == 200
        assert [c['name'] for c in json.loads(body)['classes'][:3]] == ['sky', 'grass', 'class 2']
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()
    assert snapshot(tiny_run) == before
