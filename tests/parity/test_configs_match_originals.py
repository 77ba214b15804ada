"""Every config named after an original trains as that original does: its resolved options give the
optimizers, loss weights and kinds, EMA, discriminator and norms of the original's own training.

The table is written from the original code's behaviour (as the train-step fixtures record it):
SPADE's and CC-FPSE's create_optimizers use Adam betas (0, 0.9) under TTUR whatever --beta1/--beta2
say; SCGAN's uses its YAML's betas (0, 0.999); SCGAN's routing-image loss is --rw_loss (l1) x
--lambda_w_recon, its rw_vgg key is read by nothing; no original trains a generator EMA.
"""
import pytest

from semsyn.options import resolve
from semsyn.training.trainer import optimizer_settings
from tests.conftest import REPO

TTUR_SPADE = {'lr_G': 0.0001, 'lr_D': 0.0004, 'betas': (0.0, 0.9)}
SPADE = {**TTUR_SPADE, 'gan_mode': 'hinge', 'lambda_feat': 10.0, 'lambda_vgg': 10.0, 'lambda_kld': None,
         'ema': False, 'netD': 'multiscale', 'num_D': 2, 'n_layers_D': 4, 'norm_G': 'spectralspadesyncbatch3x3',
         'norm_D': 'spectralinstance', 'routing_loss': None}
CCFPSE = {**TTUR_SPADE, 'gan_mode': 'hinge', 'lambda_feat': 20.0, 'lambda_vgg': 10.0, 'lambda_kld': 0.05,
          'norm_E': 'spectralinstance', 'ema': False, 'netD': 'fpse', 'norm_G': 'spectralsync_batch',
          'norm_D': 'spectralinstance', 'routing_loss': None}
SCGAN_TTUR = {'lr_G': 0.0001, 'lr_D': 0.0004, 'betas': (0.0, 0.999), 'gan_mode': 'hinge', 'lambda_feat': 10.0,
              'lambda_vgg': 10.0, 'ema': False, 'norm_G': 'spectralsccsyncbatch3x3', 'norm_D': 'spectralinstance'}
SCGAN_ADE = {**SCGAN_TTUR, 'netD': 'fpse', 'lambda_kld': None, 'routing_loss': ('l1', 2.0)}
SCGAN_CELEBA = {**SCGAN_TTUR, 'netD': 'multiscale', 'num_D': 2, 'n_layers_D': 4, 'lambda_kld': 0.05,
                'norm_E': 'spectralinstance', 'routing_loss': ('l1', 1.0)}

ORIGINAL_TRAINING = {
    'spade_coco.yml': SPADE, 'spade_ade20k.yml': SPADE, 'spade_cityscapes.yml': SPADE,
    'ccfpse_coco.yml': CCFPSE, 'ccfpse_ade20k.yml': CCFPSE, 'ccfpse_cityscapes.yml': CCFPSE,
    'scgan_ade20k.yml': SCGAN_ADE, 'scgan_coco.yml': SCGAN_ADE,
    'scgan_celeba.yml': SCGAN_CELEBA, 'scgan_celeba-test.yml': SCGAN_CELEBA,
}


def semsyn_training(opt):
    """What semsyn's trainer and model wrapper do with these options, in the table's terms."""
    settings = optimizer_settings(opt)
    out = {'lr_G': settings['G']['lr'], 'lr_D': settings['D']['lr'], 'betas': tuple(settings['G']['betas']),
           'gan_mode': opt.gan_mode, 'lambda_feat': None if opt.no_ganFeat_loss else opt.lambda_feat,
           'lambda_vgg': None if opt.no_vgg_loss else opt.lambda_vgg,
           'lambda_kld': opt.lambda_kld if opt.use_vae else None, 'ema': opt.ema, 'netD': opt.netD,
           'num_D': opt.num_D, 'n_layers_D': opt.n_layers_D, 'norm_G': opt.norm_G, 'norm_D': opt.norm_D,
           'norm_E': opt.norm_E, 'routing_loss': (opt.rw_loss, opt.lambda_w_recon) if opt.netG == 'scg' else None}
    assert settings['G']['betas'] == settings['D']['betas']
    return out


def test_every_config_named_after_an_original_is_in_the_table():
    named = {p.name for p in (REPO / 'config').glob('*.yml') if p.name.split('_')[0] in ('spade', 'ccfpse', 'scgan')}
    assert named == set(ORIGINAL_TRAINING)


@pytest.mark.parametrize('config', sorted(ORIGINAL_TRAINING))
def test_config_trains_as_the_original(config, capsys):
    opt = resolve(['--config', str(REPO / 'config' / config), '--gpu_ids', '-1'], is_train=True)
    ours = semsyn_training(opt)
    for key, expected in ORIGINAL_TRAINING[config].items():
        assert ours[key] == expected, f'{config}: {key} is {ours[key]!r}, the original trains with {expected!r}'
    assert 'warning' not in capsys.readouterr().err  # nothing in the config differs from the original
