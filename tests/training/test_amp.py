"""Mixed precision on CPU: a G+D step in bf16 autocast (fp16 with GradScalers) gives finite losses for
every generator; parameters, EMA-able weights and checkpoints stay float32."""
import pytest
import torch

from semsyn.models.synthesis import SynthesisModel, one_hot_semantics
from semsyn.options import make_options
from semsyn.training.trainer import Trainer

GENERATORS = [('spade', {'crop_size': 32}), ('pix2pixhd', {'resnet_n_blocks': 1, 'resnet_n_downsample': 2,
                                                            'crop_size': 32}),
              ('condconv', {'netD': 'fpse', 'crop_size': 64}),
              ('scg', {'nrf': 4, 'nff': 4, 'crop_size': 32, 'ema': True, 'lambda_w_recon': 1.0, 'rw_loss': 'l1',
                       'no_instance': True}),
              ('oasis', {'channels_G': 2, 'crop_size': 64})]  # its discriminator's widths are fixed: one sample
LOSSES = {'scg': {'GAN', 'D_Fake', 'D_real', 'W_Recon_l1'}, 'oasis': {'Generator', 'D_fake', 'D_real', 'LabelMix'}}


CASES = [(g, extra, 'bf16') for g, extra in GENERATORS] + [('spade', GENERATORS[0][1], 'fp16')]
SLOW = {'oasis'}  # a minute of bf16 on two CPU cores: its discriminator has 22M parameters at full width
CASES = [pytest.param(*case, marks=pytest.mark.slow, id=f'{case[0]}-{case[2]}') if case[0] in SLOW else
         pytest.param(*case, id=f'{case[0]}-{case[2]}') for case in CASES]


@pytest.mark.parametrize('netG,extra,amp', CASES)
def test_autocast_step_has_finite_losses(netG, extra, amp):
    torch.manual_seed(0)
    opt = make_options(dict(dataset_mode='synthetic', label_nc=4, ngf=4, ndf=8, no_vgg_loss=True, batchSize=2,
                            gpu_ids='-1', netG=netG, amp=amp, channels_last=netG in ('spade', 'condconv'), **extra))
    model = SynthesisModel(opt)
    if opt.channels_last:
        model = model.to(memory_format=torch.channels_last)
    trainer = Trainer(opt, model, torch.device('cpu'))
    size, n = opt.crop_size, 1 if netG in ('condconv', 'oasis') else 2  # CPU half precision is slow: keep it small
    sem = one_hot_semantics(torch.randint(0, 4, (n, 1, size, size)), torch.randint(0, 3, (n, 1, size, size)), opt)
    real = torch.rand(n, 3, size, size) * 2 - 1
    before = {k: v.clone() for k, v in model.netG.state_dict().items()}
    trainer.run_generator_one_step(sem, real)
    trainer.run_discriminator_one_step(sem, real)
    losses = trainer.latest_losses()
    assert set(losses) >= LOSSES.get(netG, {'GAN', 'D_Fake', 'D_real'})
    assert all(torch.isfinite(v) for v in losses.values()), losses
    assert all(p.dtype == torch.float32 for p in model.parameters())
    changed = [k for k, v in model.netG.state_dict().items() if v.is_floating_point() and not torch.equal(v, before[k])]
    if amp == 'fp16' and not changed:  # GradScaler skips a step whose scaled gradients overflowed, then backs off
        assert trainer.scaler_G.get_scale() < 2.0 ** 16
    else:
        assert changed, 'the generator step changed nothing'
    assert trainer.generated.dtype in (torch.bfloat16, torch.float16, torch.float32)
    assert trainer.scaler_G.is_enabled() == (amp == 'fp16')


def test_oasis_cross_entropy_under_bf16_autocast_is_float32s():
    """OASIS's per-pixel N+1 cross-entropy (class-balanced for real targets) of bf16 discriminator logits:
    computed in float32, within 1% of the float32 run's (at initialisation the logits are near 0 and the
    loss near log(N + 1))."""
    from semsyn.models.losses_oasis import oasis_loss
    torch.manual_seed(0)
    opt = make_options(dict(dataset_mode='synthetic', label_nc=4, batchSize=1, gpu_ids='-1', netG='oasis',
                            channels_G=2, crop_size=64))
    model = SynthesisModel(opt)
    sem = one_hot_semantics(torch.randint(0, 4, (1, 1, 64, 64)), None, opt)
    image = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        logits = model.netD(image)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            low = model.netD(image)
    assert low.dtype == torch.bfloat16 and torch.isfinite(low).all()
    for for_real in (True, False):
        exact = oasis_loss(logits, sem, for_real)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            loss = oasis_loss(low.float(), sem, for_real)
        assert loss.dtype == torch.float32 and torch.isfinite(loss)
        assert abs(loss.item() - exact.item()) < 1e-2 * exact.item(), (for_real, loss.item(), exact.item())


@pytest.mark.parametrize('reference', [False, True])
def test_spectral_norm_runs_in_float32_under_autocast(reference):
    """On both paths (semsyn/paths.py: the fast path divides by sigma in its own function) the weight
    the conv uses is computed in float32, the conv itself runs in bf16."""
    from semsyn.models.ops.spectral import spectral_norm
    from semsyn.paths import reference_path
    conv = spectral_norm(torch.nn.Conv2d(3, 4, 3))
    with reference_path(reference), torch.autocast('cpu', dtype=torch.bfloat16):
        out = conv(torch.rand(1, 3, 8, 8))
    assert conv.weight.dtype == torch.float32 and out.dtype == torch.bfloat16
    assert set(conv.state_dict()) == {'bias', 'weight_orig', 'weight_u', 'weight_v'}
