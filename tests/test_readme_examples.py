"""The README's "Your own label maps" commands run as written after the demo, and run_demo.sh leaves
``checkpoints/demo`` / ``results/demo`` naming its run, as the README's commands assume.

The demo is trained tiny (one epoch of 8 samples) in a scratch folder holding the entry points and
config/; the README's shell block then runs there line by line with ``python`` meaning this
interpreter. A block preceded by ``<!-- no-test -->`` is left out (none is today).
"""
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def section_blocks(title):
    """The ```bash blocks of the README section (any heading level) titled ``title``."""
    text = open(os.path.join(REPO, 'README.md'), encoding='utf-8').read()
    match = re.search(rf'^#+ {re.escape(title)}\n(.*?)(?=^#+ |\Z)', text, re.S | re.M)
    assert match, f'README.md has no section titled {title!r}'
    blocks = re.findall(r'(<!-- no-test -->\s*)?```bash\n(.*?)```', match.group(1), re.S)
    return [body for skip, body in blocks if not skip]


def commands(block):
    lines = [line.split('  #')[0].strip() for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith('#')]


def environment(bindir):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([os.path.join(REPO, 'code')] + env.get('PYTHONPATH', '').split(os.pathsep))
    os.makedirs(bindir, exist_ok=True)
    python = os.path.join(bindir, 'python')
    with open(python, 'w') as f:  # a wrapper, not a link: a venv's interpreter finds its venv by its own path
        f.write(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    os.chmod(python, 0o755)
    env['PATH'] = bindir + os.pathsep + env['PATH']
    return env


def run(cmd, cwd, env):
    result = subprocess.run(['bash', '-euo', 'pipefail', '-c', cmd], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, f'{cmd}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}'
    return result


def test_readme_label_map_commands_run_after_the_demo(tmp_path):
    for item in ('train.py', 'test.py', 'config', 'scripts'):
        src = os.path.join(REPO, item)
        (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, tmp_path / item)
    env = environment(str(tmp_path / 'bin'))
    tiny = '--synthetic_size 8 --niter 1 --niter_decay 0 --batchSize 4'
    stamp = 'demo_20260101_000000'
    # what run_demo.sh does, tiny: train, test, then the links it leaves
    run(f'python train.py --config config/demo.yml --name {stamp} {tiny}', tmp_path, env)
    run(f'python test.py --config config/demo.yml --name {stamp} --synthetic_size 8', tmp_path, env)
    run(f'scripts/link_demo.sh {stamp}', tmp_path, env)
    assert os.path.realpath(tmp_path / 'checkpoints' / 'demo') == str(tmp_path / 'checkpoints' / stamp)
    blocks = section_blocks('Your own label maps')
    assert blocks, 'no bash block in "Your own label maps"'
    for block in blocks:
        for cmd in commands(block):
            run(cmd, tmp_path, env)
    page = tmp_path / 'results' / 'demo' / 'label_my_maps_latest' / 'index.html'
    assert page.exists()
    # the converter's id map holds the demo's classes only
    ids = np.asarray(Image.open(tmp_path / 'my_ids.png'))
    assert ids.ndim == 2 and ids.max() < 6
    # the demo's own page was not replaced by the label-only run
    assert (tmp_path / 'results' / 'demo' / 'test_latest' / 'index.html').exists()
