"""Loss variants no train-step fixture pins, against the originals' formulas written out by hand.

The wrapper's G and D losses are recomputed here from the discriminator's raw outputs, in the
originals' own structure (SPADE's pix2pix_model / CC-FPSE's and SCGAN's FPSE branch): GAN losses
averaged over scales or FPSE prediction maps, feature matching over every intermediate output of
every scale weighted lambda_feat / num_D (PatchGAN) or lambda_feat / 4 (FPSE), SCGAN's routing-image
loss --rw_loss x --lambda_w_recon, KLD x lambda_kld. Networks are in eval mode so a forward repeats
exactly.
"""
import pytest
import torch
import torch.nn.functional as F

from semsyn.models.synthesis import SynthesisModel, prepare_batch
from semsyn.options import make_options, resolve
from semsyn.training.trainer import Trainer
from tests.conftest import REPO

# the originals' GANLoss.loss, one formula per (mode, role)
GAN_FORMULAS = {
    ('hinge', 'G'): lambda p: -p.mean(),
    ('hinge', 'real'): lambda p: F.relu(1 - p).mean(),
    ('hinge', 'fake'): lambda p: F.relu(1 + p).mean(),
    ('ls', 'G'): lambda p: ((p - 1) ** 2).mean(),
    ('ls', 'real'): lambda p: ((p - 1) ** 2).mean(),
    ('ls', 'fake'): lambda p: (p ** 2).mean(),
    ('original', 'G'): lambda p: F.softplus(-p).mean(),     # BCE with logits, target 1
    ('original', 'real'): lambda p: F.softplus(-p).mean(),
    ('original', 'fake'): lambda p: F.softplus(p).mean(),  # BCE with logits, target 0
    ('w', 'G'): lambda p: -p.mean(),
    ('w', 'real'): lambda p: -p.mean(),
    ('w', 'fake'): lambda p: p.mean(),
}


def test_gan_formulas_on_hand_computed_values():
    """The table above on p = [-2, 0.5, 3] (the numbers worked out by hand)."""
    p = torch.tensor([-2.0, 0.5, 3.0])
    from math import exp, log
    expected = {('hinge', 'G'): -0.5, ('hinge', 'real'): (3 + 0.5 + 0) / 3, ('hinge', 'fake'): (0 + 1.5 + 4) / 3,
                ('ls', 'G'): (9 + 0.25 + 4) / 3, ('ls', 'fake'): (4 + 0.25 + 9) / 3,
                ('original', 'G'): (log(1 + exp(2)) + log(1 + exp(-0.5)) + log(1 + exp(-3))) / 3,
                ('original', 'fake'): (log(1 + exp(-2)) + log(1 + exp(0.5)) + log(1 + exp(3))) / 3,
                ('w', 'G'): -0.5, ('w', 'fake'): 0.5}
    for key, value in expected.items():
        assert GAN_FORMULAS[key](p).item() == pytest.approx(value, rel=1e-6), key
    from semsyn.models.losses import GANLoss
    for (mode, role), f in GAN_FORMULAS.items():
        ours = GANLoss(mode)(p, role != 'fake', for_discriminator=role != 'G')
        assert ours.item() == pytest.approx(f(p).item(), rel=1e-6), (mode, role)


SMALL = {'gpu_ids': '-1', 'dataset_mode': 'synthetic', 'label_nc': 4, 'crop_size': 64, 'load_size': 64, 'ngf': 2,
         'ndf': 4, 'no_vgg_loss': True, 'batchSize': 2}


def batch(opt, seed=0):
    g = torch.Generator().manual_seed(seed)
    h, w = opt.crop_size, int(opt.crop_size * opt.aspect_ratio)
    nc = opt.label_nc + (1 if opt.contain_dontcare_label else 0)
    data = {'label': torch.randint(0, nc, (2, 1, h // 8, w // 8), generator=g).repeat_interleave(8, 2)
            .repeat_interleave(8, 3).float(),
            'instance': torch.randint(0, 3, (2, 1, h // 16, w // 16), generator=g).repeat_interleave(16, 2)
            .repeat_interleave(16, 3),
            'image': torch.rand(2, 3, h, w, generator=g) * 2 - 1}
    return prepare_batch(data, opt, torch.device('cpu'))[:2]


def discriminator_outputs(model, semantics, fake, real):
    """(fake predictions, fake feature groups, real feature groups) in the originals' structure."""
    opt, D = model.opt, model.netD
    if opt.netD == 'fpse':
        feats, preds = D(torch.cat([fake, real]), torch.cat([semantics, semantics]))
        half = fake.size(0)
        return ([p[:half] for p in preds], [p[half:] for p in preds],
                [[f[:half]] for f in feats], [[f[half:]] for f in feats], len(feats))
    out = D(torch.cat([torch.cat([semantics, fake], 1), torch.cat([semantics, real], 1)]))
    half = fake.size(0)
    fake_out = [[t[:half] for t in scale] for scale in out]
    real_out = [[t[half:] for t in scale] for scale in out]
    return ([s[-1] for s in fake_out], [s[-1] for s in real_out],
            [s[:-1] for s in fake_out], [s[:-1] for s in real_out], len(out))


VARIANTS = {
    'spade_hinge': {},
    'gan_mode_ls': {'gan_mode': 'ls'},
    'gan_mode_original': {'gan_mode': 'original'},
    'gan_mode_w': {'gan_mode': 'w'},
    'no_ganFeat_loss': {'no_ganFeat_loss': True},
    'three_scales_three_layers': {'num_D': 3, 'n_layers_D': 3},
    'one_scale_five_layers': {'num_D': 1, 'n_layers_D': 5, 'lambda_feat': 7.0},
    'more_upsampling_instance_edges': {'num_upsampling_layers': 'more', 'crop_size': 128, 'load_size': 128,
                                       'no_instance': False, 'contain_dontcare_label': True},
    'fpse_discriminator': {'netD': 'fpse', 'lambda_feat': 20.0},
    'ccfpse_ls': {'netG': 'condconv', 'netD': 'fpse', 'gan_mode': 'ls', 'lambda_feat': 20.0},
}


@pytest.mark.parametrize('variant', sorted(VARIANTS))
def test_wrapper_losses_follow_the_originals(variant):
    opt = make_options({**SMALL, **VARIANTS[variant]})
    torch.manual_seed(0)
    model = SynthesisModel(opt).eval()
    semantics, real = batch(opt)
    if not opt.no_instance:
        assert semantics.shape[1] == opt.semantic_nc and semantics[:, -1].max() == 1  # the edge channel is there
    with torch.no_grad():
        g_losses, fake = model.compute_generator_loss(semantics, real)
        d_losses = model.compute_discriminator_loss(semantics, real)
        pf, pr, ff, fr, n = discriminator_outputs(model, semantics, fake, real)
    assert fake.shape == real.shape
    mode = opt.gan_mode
    expect_g = {'GAN': sum(GAN_FORMULAS[mode, 'G'](p) for p in pf) / len(pf)}
    if not opt.no_ganFeat_loss:
        terms = [F.l1_loss(a, b) for fs, rs in zip(ff, fr) for a, b in zip(fs, rs)]
        assert len(terms) == (4 if opt.netD == 'fpse' else opt.num_D * opt.n_layers_D)
        expect_g['GAN_Feat'] = sum(terms) * opt.lambda_feat / n
    assert set(g_losses) == set(expect_g)
    for k, v in expect_g.items():
        assert g_losses[k].item() == pytest.approx(v.item(), rel=1e-5, abs=1e-7), k
    expect_d = {'D_Fake': sum(GAN_FORMULAS[mode, 'fake'](p) for p in pf) / len(pf),
                'D_real': sum(GAN_FORMULAS[mode, 'real'](p) for p in pr) / len(pr)}
    assert set(d_losses) == set(expect_d)
    for k, v in expect_d.items():
        assert d_losses[k].item() == pytest.approx(v.item(), rel=1e-5, abs=1e-7), k


def test_scgan_celeba_configuration():
    """SCGAN's CelebAMask-HQ setting as config/scgan_celeba.yml sets it (multiscale D, position prior on the
    pyramid, no spectral norm on routing, VAE with SCGAN's encoder, W_Recon_l1 x 1.0), shrunk."""
    opt = resolve(['--config', str(REPO / 'config' / 'scgan_celeba.yml'), '--gpu_ids', '-1', '--ngf', '4', '--nrf',
                   '4', '--nff', '4', '--ndf', '8', '--crop_size', '64', '--load_size', '64', '--z_dim', '16',
                   '--no_vgg_loss', '--batchSize', '2'], is_train=True)
    assert (opt.netD, opt.position, opt.pyr_pos, opt.no_spectral_on_routing, opt.use_vae) == \
        ('multiscale', True, True, True, True)
    torch.manual_seed(0)
    model = SynthesisModel(opt).eval()
    semantics, real = batch(opt)
    with torch.no_grad():
        g_losses, fake = model.compute_generator_loss(semantics, real)
        mu, logvar = model.netE(real)
        routing_image = model.netG(semantics, z=mu)[1]  # the routing network does not see z
        pf, _, ff, fr, n = discriminator_outputs(model, semantics, fake, real)
    assert set(g_losses) == {'KLD', 'GAN', 'GAN_Feat', 'W_Recon_l1'}
    assert g_losses['W_Recon_l1'].item() == pytest.approx(1.0 * F.l1_loss(routing_image, real).item(), rel=1e-6)
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    assert g_losses['KLD'].item() == pytest.approx(0.05 * kld.item(), rel=1e-5)
    assert g_losses['GAN'].item() == pytest.approx((sum(-p.mean() for p in pf) / len(pf)).item(), rel=1e-5)
    terms = [F.l1_loss(a, b) for fs, rs in zip(ff, fr) for a, b in zip(fs, rs)]
    assert g_losses['GAN_Feat'].item() == pytest.approx((sum(terms) * 10.0 / 2).item(), rel=1e-5)


@pytest.mark.parametrize('no_ttur,lrs,betas', [(False, (1e-4, 4e-4), (0.0, 0.9)), (True, (2e-4, 2e-4), (0.5, 0.999))])
def test_ttur_and_no_ttur_optimizers(no_ttur, lrs, betas):
    opt = make_options({**SMALL, 'no_TTUR': no_ttur})
    trainer = Trainer(opt, SynthesisModel(opt))
    for optimizer, lr in zip((trainer.optimizer_G, trainer.optimizer_D), lrs):
        group = optimizer.param_groups[0]
        assert group['lr'] == pytest.approx(lr) and group['betas'] == betas
