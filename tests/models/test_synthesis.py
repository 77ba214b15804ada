"""The model wrapper: one-hot + instance edges, G/D/E wiring, loss dict, inference."""
import pytest
import torch

from semsyn.errors import UserError
from semsyn.models.synthesis import SynthesisModel, instance_edges, one_hot_semantics
from semsyn.options import make_options


def small_opt(**kw):
    values = dict(dataset_mode='synthetic', label_nc=4, crop_size=64, ngf=4, ndf=8, no_vgg_loss=True,
                  gpu_ids='-1')
    values.update(kw)
    return make_options(values)


@pytest.mark.parametrize('dtype', [torch.uint8, torch.bool, torch.int16, torch.int64])
def test_instance_edges_any_dtype(dtype):
    t = torch.zeros(1, 1, 4, 5, dtype=torch.int64)
    t[..., :, 3:] = 1
    edges = instance_edges(t.to(dtype))
    expect = torch.zeros(1, 1, 4, 5)
    expect[..., :, 2:4] = 1  # both sides of the vertical border
    assert torch.equal(edges, expect)


def test_one_hot_with_dontcare_and_instance_channel():
    opt = small_opt(contain_dontcare_label=True)
    label = torch.tensor([[[[0, 4], [2, 2]]]])
    inst = torch.tensor([[[[1, 1], [1, 1]]]])
    sem = one_hot_semantics(label, inst, opt)
    assert sem.shape == (1, opt.semantic_nc, 2, 2) and opt.semantic_nc == 6
    assert sem[0, 4, 0, 1] == 1 and sem[0, 0, 0, 0] == 1 and sem[0, :5].sum() == 4
    assert sem[0, 5].sum() == 0  # one instance: no edges


@pytest.mark.parametrize('use_vae', [False, True])
def test_generator_and_discriminator_losses(use_vae):
    torch.manual_seed(0)
    opt = small_opt(use_vae=use_vae, crop_size=64 if not use_vae else 128)
    model = SynthesisModel(opt)
    assert (model.netE is not None) == use_vae
    size = opt.crop_size
    sem = one_hot_semantics(torch.randint(0, 4, (2, 1, size, size)), torch.randint(0, 3, (2, 1, size, size)), opt)
    real = torch.rand(2, 3, size, size) * 2 - 1
    g_losses, fake = model(sem, real, mode='generator')
    assert set(g_losses) == ({'GAN', 'GAN_Feat', 'KLD'} if use_vae else {'GAN', 'GAN_Feat'})
    assert fake.shape == real.shape and all(torch.isfinite(v) for v in g_losses.values())
    sum(g_losses.values()).backward()
    assert model.netG.conv_img.weight.grad is not None
    d_losses = model(sem, real, mode='discriminator')
    assert set(d_losses) == {'D_Fake', 'D_real'}
    out = model.eval()(sem, real, mode='inference')
    assert out.shape == real.shape and not out.requires_grad


def test_vae_needs_z_dim_256():
    with pytest.raises(UserError, match='z_dim'):
        SynthesisModel(small_opt(use_vae=True, z_dim=16))


def test_fpse_feature_matching_weighs_each_feature_by_lambda_over_count():
    torch.manual_seed(0)
    opt = small_opt(netD='fpse', lambda_feat=20.0)
    model = SynthesisModel(opt).eval()
    sem = one_hot_semantics(torch.randint(0, 4, (2, 1, 64, 64)), torch.zeros(2, 1, 64, 64, dtype=torch.long), opt)
    real = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        g_losses, fake = model(sem, real, mode='generator')
        feats_fake, preds_fake = model.netD(fake, sem)
        feats_real, _ = model.netD(real, sem)
    expect = sum(torch.nn.functional.l1_loss(a, b) for a, b in zip(feats_fake, feats_real)) * 20.0 / 4
    assert g_losses['GAN_Feat'].item() == pytest.approx(expect.item(), rel=1e-4)
    assert g_losses['GAN'].item() == pytest.approx(-sum(p.mean() for p in preds_fake).item() / 3, rel=1e-4)
