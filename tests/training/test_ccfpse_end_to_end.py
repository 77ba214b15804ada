"""CC-FPSE (condconv G + FPSE D) trains a few iterations and tests, on synthetic data and samples."""
import pytest

from tests.conftest import DATASETS, require
from tests.training.helpers import synthesize_run, train_run
from tests.training.test_end_to_end import check_results, check_run

pytestmark = pytest.mark.slow

CCFPSE = ['--netG', 'condconv', '--netD', 'fpse', '--lambda_feat', '20']


def test_ccfpse_synthetic_with_vae(tmp_path):
    train_run(tmp_path, 'cc', *CCFPSE, '--dataset_mode', 'synthetic', '--synthetic_size', '2', '--crop_size', '64',
              '--use_vae')
    check_run(tmp_path, 'cc', roles=('G', 'D', 'E'))
    _, page = synthesize_run(tmp_path, 'cc', '--netG', 'condconv', '--dataset_mode', 'synthetic', '--synthetic_size',
                             '2', '--crop_size', '64', '--use_vae', '--seed', '3')
    assert check_results(page, 2) == (64, 64)


def test_spade_generator_with_fpse_discriminator(tmp_path):
    train_run(tmp_path, 'sf', '--netD', 'fpse', '--dataset_mode', 'synthetic', '--synthetic_size', '2',
              '--crop_size', '64')
    check_run(tmp_path, 'sf')


def test_ccfpse_coco_stuff(tmp_path):
    root = str(require(DATASETS / 'coco_stuff', 'coco_stuff sample dataset'))
    train_run(tmp_path, 'coco', *CCFPSE, '--dataset_mode', 'coco', '--dataroot', root, '--crop_size', '64',
              '--load_size', '72', '--max_dataset_size', '4')
    check_run(tmp_path, 'coco')
    _, page = synthesize_run(tmp_path, 'coco', '--netG', 'condconv', '--dataset_mode', 'coco', '--dataroot', root,
                             '--crop_size', '64', '--load_size', '64', '--how_many', '2')
    assert check_results(page, 2) == (64, 64)


def test_ccfpse_cityscapes_more_upsampling_with_instance_edges(tmp_path):
    root = str(require(DATASETS / 'cityscapes', 'cityscapes sample dataset'))
    opt = train_run(tmp_path, 'cs', *CCFPSE, '--dataset_mode', 'cityscapes', '--dataroot', root, '--crop_size', '128',
                    '--max_dataset_size', '2')
    assert opt.num_upsampling_layers == 'more' and not opt.no_instance and opt.semantic_nc == 36
    check_run(tmp_path, 'cs')
    _, page = synthesize_run(tmp_path, 'cs', '--netG', 'condconv', '--dataset_mode', 'cityscapes', '--dataroot',
                             root, '--phase', 'train', '--crop_size', '128', '--how_many', '2')
    assert check_results(page, 2) == (128, 64)
