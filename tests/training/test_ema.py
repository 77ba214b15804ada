"""The generator EMA (SCGAN's netA): update math, saved as <epoch>_net_A.pth, used by test.py."""
import pytest
import torch

from semsyn.models.synthesis import ema_update
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
