"""The per-dataset test scripts run a checkpoint placed under checkpoints/, reproducibly with --seed."""
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import DATASETS, REPO, require
from tests.training.helpers import train_run

pytestmark = pytest.mark.slow


def test_ccfpse_test_coco_script_runs_a_released_style_checkpoint(tmp_path):
    root = str(require(DATASETS / 'coco_stuff', 'coco_stuff sample dataset'))
    train_run(tmp_path, 'coco_best', '--netG', 'condconv', '--netD', 'fpse', '--use_vae', '--dataset_mode', 'coco',
              '--dataroot', root, '--crop_size', '64', '--load_size', '64', '--max_dataset_size', '2')
    run_dir = tmp_path / 'ck' / 'coco_best'
    for role in ('G', 'E'):  # the released files are named after their epoch
        shutil.copy(run_dir / f'1_net_{role}.pth', run_dir / f'100_net_{role}.pth')
    env = dict(os.environ, DATAROOT=root, PY=sys.executable)
    pages = []
    for out in ('a', 'b'):
        proc = subprocess.run([str(REPO / 'scripts' / 'test_coco.sh'), '--gpu_ids', '-1', '--ngf', '4',
                               '--crop_size', '64', '--load_size', '64', '--how_many', '2',
                               '--checkpoints_dir', str(tmp_path / 'ck'), '--results_dir', str(tmp_path / out)],
                              capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        pages.append(tmp_path / out / 'coco_best' / 'test_100')
    files = sorted(os.listdir(pages[0] / 'images' / 'synthesized_image'))
    assert len(files) == 2
    for f in files:  # same --seed, same random z: identical images
        a = (pages[0] / 'images' / 'synthesized_image' / f).read_bytes()
        assert a == (pages[1] / 'images' / 'synthesized_image' / f).read_bytes()
