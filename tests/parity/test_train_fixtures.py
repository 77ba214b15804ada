"""Train-step parity: every fixture recorded from an original trainer passes its pass rule when
replayed with semsyn's model wrapper, preprocessing and trainer; the rule catches porting mistakes."""
import pytest
import torch

import semsyn.models.synthesis as synthesis
import semsyn.training.trainer as trainer
from semsyn.models.losses import GANLoss
from semsyn.parity import check_train_step, load_train_fixture, replay_train_fixture, run_train_fixture
from tests.conftest import REFERENCE, require

TRAIN_FIXTURES = REFERENCE / 'train_fixtures'


def fixture_paths():
    return sorted(TRAIN_FIXTURES.glob('*.pt')) if TRAIN_FIXTURES.is_dir() else []


@pytest.mark.parametrize('path', fixture_paths() or ['<none>'], ids=lambda p: getattr(p, 'stem', str(p)))
def test_train_fixture_passes_the_rule(path):
    require(TRAIN_FIXTURES, 'train-step fixtures')
    fx, result, report = run_train_fixture(path)
    assert report.ok, f'{fx["name"]}:\n{report.summary()}'
    # every check of the rule ran
    assert {'loss', 'grad', 'param', 'param_cap', 'buffer'} <= set(report.ratios), report.ratios


@pytest.fixture(scope='module')
def spade_fixture():
    return load_train_fixture(require(TRAIN_FIXTURES / 'train_spade.pt', 'train-step fixtures'))


def _swap_ttur(opt, lr):
    return (lr, lr) if opt.no_TTUR else (lr * 2, lr / 2)


class _HingeGAsD(GANLoss):
    def loss(self, input, target_is_real, for_discriminator=True):
        return super().loss(input, target_is_real, for_discriminator=True)


def _train_D_in_eval(model, mode=True):
    torch.nn.Module.train(model, mode)
    model.netD.eval()
    return model


MUTATIONS = {
    'ttur_swapped': lambda mp: mp.setattr(trainer, 'split_lr', _swap_ttur),
    'fm_weight_not_divided': lambda mp: mp.setattr(
        synthesis, 'feature_matching_loss',
        lambda f, r, lam, fm=synthesis.feature_matching_loss: fm(f, r, lam * len(f))),
    'hinge_G_as_D': lambda mp: mp.setattr(synthesis, 'GANLoss', _HingeGAsD),
    'D_eval': lambda mp: mp.setattr(synthesis.SynthesisModel, 'train', _train_D_in_eval),
    'beta2_changed': lambda mp: mp.setattr(
        trainer, 'optimizer_settings', lambda opt, f=trainer.optimizer_settings: {
            k: {**v, 'betas': (v['betas'][0], 0.999)} for k, v in f(opt).items()}),
}


@pytest.mark.parametrize('mutation', sorted(MUTATIONS))
def test_rule_catches_a_porting_mistake(spade_fixture, mutation, monkeypatch):
    """The same replay with one plausible porting mistake in semsyn fails the rule."""
    MUTATIONS[mutation](monkeypatch)
    report = check_train_step(spade_fixture, replay_train_fixture(spade_fixture))
    assert not report.ok, f'{mutation} was not caught:\n{report.summary()}'


def test_rule_catches_a_wrong_routing_loss_weight(monkeypatch):
    fx = load_train_fixture(require(TRAIN_FIXTURES / 'train_scgan.pt', 'train-step fixtures'))
    fx['options'] = {**fx['options'], 'lambda_w_recon': 2 * fx['options']['lambda_w_recon']}
    report = check_train_step(fx, replay_train_fixture(fx))
    assert not report.ok and any('W_Recon_l1' in f for f in report.failures), report.summary()
