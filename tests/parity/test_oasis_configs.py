"""config/oasis_*.yml train as the original's scripts and config.py defaults (learning rates, betas,
LabelMix weight, EMA decay, batch size, epochs), and the networks their options build (training and
the scripts' test options) have the key lists and shapes of the released models' manifests
(../shared/reference/oasis/manifests)."""
import json
import re

import pytest
import torch

from semsyn.models import create_network
from semsyn.options import resolve
from semsyn.training.trainer import optimizer_settings
from tests.conftest import REFERENCE, REPO, require

MANIFESTS = REFERENCE / 'oasis' / 'manifests'
ORIGINAL = {  # scripts/train_<dataset>.sh and config.py's set_dataset_default_lm
    'ade20k': {'lr_G': 1e-4, 'lr_D': 4e-4, 'lambda_labelmix': 10.0, 'ema_decay': 0.9999, 'batchSize': 32, 'niter': 200},
    'cityscapes': {'lr_G': 4e-4, 'lr_D': 4e-4, 'lambda_labelmix': 5.0, 'ema_decay': 0.999, 'batchSize': 20,
                   'niter': 200},
    'coco': {'lr_G': 1e-4, 'lr_D': 4e-4, 'lambda_labelmix': 10.0, 'ema_decay': 0.9999, 'batchSize': 32, 'niter': 100},
}


def train_options(dataset):
    return resolve(['--config', str(REPO / 'config' / f'oasis_{dataset}.yml'), '--gpu_ids', '-1'], is_train=True)


def script_options(dataset):
    """test.py's options of scripts/test_oasis_<dataset>.sh."""
    text = (REPO / 'scripts' / f'test_oasis_{dataset}.sh').read_text()
    line = re.search(r'test\.py (.*?)\\\n', text).group(1)
    return resolve(line.split() + ['--gpu_ids', '-1'], is_train=False)


def keys_and_shapes(role, opt):
    with torch.device('meta'):
        net = create_network(role, opt, init=False)
    return [(k, list(v.shape)) for k, v in net.state_dict().items()]


@pytest.mark.parametrize('dataset', sorted(ORIGINAL))
def test_config_trains_as_the_original(dataset):
    opt = train_options(dataset)
    settings = optimizer_settings(opt)
    ours = {'lr_G': settings['G']['lr'], 'lr_D': settings['D']['lr'], 'lambda_labelmix': opt.lambda_labelmix,
            'ema_decay': opt.ema_decay, 'batchSize': opt.batchSize, 'niter': opt.niter}
    assert ours == pytest.approx(ORIGINAL[dataset])
    assert settings['G']['betas'] == settings['D']['betas'] == (0.0, 0.999)
    assert (opt.netG, opt.netD, opt.ema, opt.niter_decay, opt.z_dim) == ('oasis', 'oasis', True, 0, 64)
    assert not opt.no_labelmix and not opt.no_balancing_inloss and opt.no_vgg_loss and opt.no_ganFeat_loss


@pytest.mark.parametrize('dataset', sorted(ORIGINAL))
def test_networks_match_the_released_manifests(dataset):
    require(MANIFESTS, 'OASIS manifests')
    for role, opt in (('G', train_options(dataset)), ('D', train_options(dataset)), ('G', script_options(dataset))):
        meta = json.loads((MANIFESTS / f'oasis_{dataset}_{role}.json').read_text())
        assert opt.semantic_nc == meta['options']['semantic_nc']
        assert keys_and_shapes(role, opt) == [(k, list(v)) for k, v in meta['params'].items()]
