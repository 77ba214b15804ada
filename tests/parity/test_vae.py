"""The VAE path (--use_vae), which no fixture can replay (its noise): KLD formula and weight, the
encoder fed the real image, the reparameterisation's mu/logvar roles, E trained by G's optimizer."""
import pytest
import torch

from semsyn.models.losses import kld_loss
from semsyn.models.synthesis import SynthesisModel, reparameterize
from semsyn.options import make_options
from semsyn.training.trainer import Trainer
from tests.parity.test_loss_variants import SMALL, batch


def vae_model(**extra):
    opt = make_options({**SMALL, 'use_vae': True, 'lambda_kld': 0.25, **extra})
    torch.manual_seed(0)
    return SynthesisModel(opt)


def test_kld_is_the_summed_gaussian_kl():
    mu, logvar = torch.randn(3, 5), torch.randn(3, 5)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros(3, 5), torch.ones(3, 5))
    assert kld_loss(mu, logvar).item() == pytest.approx(torch.distributions.kl_divergence(q, p).sum().item(), rel=1e-5)


def test_reparameterisation_roles():
    mu, logvar = torch.full((4000,), 3.0), torch.full((4000,), 2 * torch.log(torch.tensor(0.5)).item())
    torch.manual_seed(1)
    z = reparameterize(mu, logvar)
    torch.manual_seed(1)
    eps = torch.randn(4000)
    assert torch.allclose(z, mu + eps * 0.5)  # z = mu + eps * exp(logvar / 2)
    assert z.mean().item() == pytest.approx(3.0, abs=0.05) and z.std().item() == pytest.approx(0.5, abs=0.03)


def test_generator_loss_has_the_weighted_kld_of_the_encoded_real_image():
    model = vae_model().eval()
    semantics, real = batch(model.opt)
    seen = []
    model.netE.register_forward_hook(lambda m, args, out: seen.append((args[0], out)))
    with torch.no_grad():
        losses, _ = model.compute_generator_loss(semantics, real)
    assert len(seen) == 1 and torch.equal(seen[0][0], real)  # the encoder sees the real photo
    mu, logvar = seen[0][1]
    assert losses['KLD'].item() == pytest.approx(0.25 * kld_loss(mu, logvar).item(), rel=1e-6)


def test_the_style_code_comes_from_the_real_image():
    model = vae_model().eval()
    semantics, real = batch(model.opt)
    with torch.no_grad():
        torch.manual_seed(5)
        a, _, _ = model.generate_fake(semantics, real)
        torch.manual_seed(5)
        b, _, _ = model.generate_fake(semantics, -real)
        torch.manual_seed(5)
        z, mu, logvar = model.encode_z(real)
        expected = model.netG(semantics, z=z)
    assert torch.equal(a, expected) and not torch.equal(a, b)


def test_encoder_is_trained_by_the_generator_optimizer():
    model = vae_model()
    trainer = Trainer(model.opt, model)
    g_ids = {id(p) for group in trainer.optimizer_G.param_groups for p in group['params']}
    d_ids = {id(p) for group in trainer.optimizer_D.param_groups for p in group['params']}
    assert {id(p) for p in model.netE.parameters()} <= g_ids
    assert {id(p) for p in model.netG.parameters()} <= g_ids and not g_ids & d_ids
    semantics, real = batch(model.opt)
    before = [p.detach().clone() for p in model.netE.parameters()]
    trainer.run_generator_one_step(semantics, real)
    assert any(not torch.equal(a, p) for a, p in zip(before, model.netE.parameters()))
    assert all(p.grad is not None for p in model.netE.parameters() if p.requires_grad)
