"""The generator EMA (SCGAN's netA): update math, saved as <epoch>_net_A.pth, used by test.py."""
import pytest
import torch

from semsyn.models.ema import ema_update, recalibrate_batch_norm
from tests.training.helpers import synthesize_run, train_run


def test_ema_update_math():
    ema, net = torch.nn.BatchNorm1d(2), torch.nn.BatchNorm1d(2)
    with torch.no_grad():
        ema.weight.fill_(1.0)
        net.weight.fill_(3.0)
        net.running_mean.fill_(5.0)
    ema_update(ema, net, decay=0.9)
    assert torch.allclose(ema.weight, torch.full((2,), 0.9 * 1.0 + 0.1 * 3.0))
    assert torch.equal(ema.running_mean, net.running_mean)  # buffers are copied
    for _ in range(200):
        ema_update(ema, net, decay=0.9)
    assert torch.allclose(ema.weight, net.weight, atol=1e-6)


@pytest.mark.slow
def test_ema_is_saved_and_used_for_testing(tmp_path, capsys):
    train_run(tmp_path, 'ema', '--dataset_mode', 'synthetic', '--synthetic_size', '2', '--crop_size', '32', '--ema',
              '--ema_decay', '0.5', '--niter', '2')
    run = tmp_path / 'ck' / 'ema'
    a = torch.load(run / 'latest_net_A.pth', weights_only=True)
    g = torch.load(run / 'latest_net_G.pth', weights_only=True)
    assert a.keys() == g.keys() and (run / '2_net_A.pth').is_file()
    assert any(not torch.equal(a[k], g[k]) for k in a if a[k].is_floating_point())
    synthesize_run(tmp_path, 'ema', '--dataset_mode', 'synthetic', '--synthetic_size', '2', '--crop_size', '32')
    assert 'latest_net_A.pth' in capsys.readouterr().out
    synthesize_run(tmp_path, 'ema', '--dataset_mode', 'synthetic', '--synthetic_size', '2', '--crop_size', '32',
                   '--no_ema')
    assert 'net_A' not in capsys.readouterr().out


def _net_with_batch_norm():
    from semsyn.models.ops import spectral_norm
    torch.manual_seed(0)
    return torch.nn.Sequential(spectral_norm(torch.nn.Conv2d(2, 3, 3, padding=1)), torch.nn.BatchNorm2d(3),
                               torch.nn.Dropout(0.5))


def test_recalibrate_batch_norm_is_the_average_over_the_batches_and_touches_nothing_else():
    net = _net_with_batch_norm().train()
    net[2].eval()  # a mixed-mode net: every mode must come back as it was
    bn, conv = net[1], net[0]
    u_before = conv.weight_u.clone()
    batches = [torch.randn(4, 2, 5, 5) + i for i in range(3)]
    with torch.no_grad():
        conv.eval()
        feats = [conv(x) for x in batches]  # what the BN sees: the conv with its stored spectral vectors
        conv.train()
    assert recalibrate_batch_norm(net, lambda n: [n(x) for x in batches]) == 1
    expected_mean = torch.stack([f.mean(dim=(0, 2, 3)) for f in feats]).mean(0)
    expected_var = torch.stack([f.var(dim=(0, 2, 3), unbiased=True) for f in feats]).mean(0)
    assert torch.allclose(bn.running_mean, expected_mean, atol=1e-5)
    assert torch.allclose(bn.running_var, expected_var, atol=1e-5)
    assert torch.equal(conv.weight_u, u_before)  # no power iteration
    assert bn.momentum == 0.1 and net.training and conv.training and bn.training and not net[2].training


def test_model_recalibrates_only_the_ema_generator_and_keeps_the_rng(monkeypatch):
    from semsyn.models.synthesis import SynthesisModel, prepare_batch
    from semsyn.options import make_options
    opt = make_options({'dataset_mode': 'synthetic', 'crop_size': 32, 'ngf': 4, 'ndf': 8, 'no_vgg_loss': True,
                        'batchSize': 2, 'ema': True, 'use_vae': True, 'gpu_ids': '-1'})
    model = SynthesisModel(opt).train()
    g_state = {k: v.clone() for k, v in model.netG.state_dict().items()}
    e_state = {k: v.clone() for k, v in model.netE.state_dict().items()}
    data = {'label': torch.randint(0, 6, (2, 1, 32, 32)), 'instance': torch.randint(0, 3, (2, 1, 32, 32)),
            'image': torch.rand(2, 3, 32, 32) * 2 - 1}
    semantics, real, _ = prepare_batch(data, opt, torch.device('cpu'))
    seen = []
    first_bn = next(m for m in model.netA.modules() if isinstance(m, torch.nn.BatchNorm2d))
    first_bn.register_forward_hook(lambda m, args, out: seen.append(args[0].detach().clone()))
    rng = torch.get_rng_state()
    assert model.recalibrate_ema([(semantics, real)]) > 0
    assert torch.equal(torch.get_rng_state(), rng)
    assert len(seen) == 1 and torch.allclose(first_bn.running_mean, seen[0].mean(dim=(0, 2, 3)), atol=1e-5)
    assert all(torch.equal(v, g_state[k]) for k, v in model.netG.state_dict().items())
    assert all(torch.equal(v, e_state[k]) for k, v in model.netE.state_dict().items())
    assert model.netE.training and not model.netA.training
