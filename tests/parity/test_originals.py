"""The translation of an original's option namespace into semsyn options, and the betas warning."""
import pytest

from semsyn.errors import UserError
from semsyn.options import resolve
from semsyn.parity.originals import CCFPSE, SCGAN, SPADE, effective_training, semsyn_options

BASE = {'netG': 'spade', 'label_nc': 5, 'contain_dontcare_label': True, 'no_instance': False, 'crop_size': 64,
        'load_size': 64, 'ngf': 4, 'gpu_ids': [], 'beta1': 0.5, 'beta2': 0.999, 'no_TTUR': False, 'lr': 0.0002}


@pytest.mark.parametrize('repo,no_ttur,betas,lrs', [
    (SPADE, False, (0.0, 0.9), (1e-4, 4e-4)),      # TTUR: create_optimizers hard-codes the betas
    (CCFPSE, False, (0.0, 0.9), (1e-4, 4e-4)),
    (SPADE, True, (0.5, 0.999), (2e-4, 2e-4)),     # --no_TTUR: the options' betas, one lr
    (CCFPSE, True, (0.5, 0.999), (2e-4, 2e-4)),
    (SCGAN, False, (0.5, 0.999), (1e-4, 4e-4)),    # SCGAN uses the options' betas with TTUR lrs
])
def test_effective_optimizers(repo, no_ttur, betas, lrs):
    options = {**BASE, 'no_TTUR': no_ttur}
    eff = effective_training(repo, options)
    assert eff['betas'] == betas and (eff['lr_G'], eff['lr_D']) == lrs
    opt = semsyn_options(options, repo)
    assert (opt.beta1, opt.beta2) == betas and not opt.ema


def test_scgan_rw_vgg_has_no_effect_and_defaults_are_the_originals():
    options = {**BASE, 'netG': 'scg', 'rw_vgg': True, 'no_instance': True, 'nrf': 4, 'nff': 4}
    opt = semsyn_options(options, SCGAN)
    assert opt.rw_loss == 'l1' and opt.lambda_w_recon == 2.0


def test_unknown_or_unsupported_original_options_are_refused():
    with pytest.raises(UserError, match='no semsyn equivalent'):
        semsyn_options({**BASE, 'mystery_flag': 3}, SPADE)
    with pytest.raises(UserError, match='not implemented'):
        semsyn_options({**BASE, 'diversity_loss': True}, SCGAN)
    assert semsyn_options({**BASE, 'diversity_loss': False, 'mpdist': True}, SCGAN).netG == 'spade'
    with pytest.raises(UserError, match='semantic_nc'):
        semsyn_options({**BASE, 'semantic_nc': 6}, SPADE)


@pytest.mark.parametrize('netG,args,warns', [
    ('spade', ['--beta1', '0.5', '--beta2', '0.999'], True),   # SPADE would ignore them under TTUR
    ('condconv', ['--beta2', '0.999'], True),
    ('spade', ['--beta1', '0.5', '--no_TTUR'], False),        # used by the original too
    ('scg', ['--beta2', '0.999'], False),                      # SCGAN uses them
    ('spade', [], False),
])
def test_betas_the_original_would_ignore_are_used_with_a_warning(netG, args, warns, capsys):
    opt = resolve(['--netG', netG, '--gpu_ids', '-1'] + args, is_train=True)
    err = capsys.readouterr().err
    assert ('ignores --beta1/--beta2 under TTUR' in err) == warns
    if '--beta2' in args:
        assert opt.beta2 == 0.999  # semsyn honours explicit betas
