"""LPIPS diversity: the lpips package's distance with AlexNet weights from the hub cache or a path
(never random), the same numbers as the package builds itself; diversity of identical samples is 0."""
import argparse

import pytest
import torch
from torchvision.models import alexnet

from semsyn.errors import UserError
from semsyn.metrics.lpips import LPIPSDiversity, load_lpips

ALEXNET_FILE = 'alexnet-owt-7be5be79.pth'


@pytest.fixture
def alexnet_home(tmp_path, monkeypatch):
    """A torch hub cache holding AlexNet with seeded random weights (the real file is a download)."""
    (tmp_path / 'hub' / 'checkpoints').mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(alexnet(weights=None).state_dict(), tmp_path / 'hub' / 'checkpoints' / ALEXNET_FILE)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    monkeypatch.setenv('SEMSYN_OFFLINE', '1')
    return tmp_path


def test_same_numbers_as_the_package(alexnet_home):
    import lpips
    reference = lpips.LPIPS(net='alex', verbose=False)  # the package loads the trunk from the hub cache itself
    ours = load_lpips()
    torch.manual_seed(1)
    a, b = torch.rand(3, 3, 64, 64) * 2 - 1, torch.rand(3, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        expected, got = reference(a, b).flatten(), ours(a, b).flatten()
    assert torch.allclose(got, expected, rtol=1e-6, atol=1e-7) and (expected > 0).all()


def test_weights_from_a_path_and_missing_weights(alexnet_home, tmp_path, monkeypatch):
    path = alexnet_home / 'hub' / 'checkpoints' / ALEXNET_FILE
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'empty'))
    load_lpips(str(path))
    with pytest.raises(UserError) as exc:
        load_lpips()
    assert ALEXNET_FILE in str(exc.value) and '--lpips_weights' in str(exc.value)


def test_diversity(alexnet_home):
    opt = argparse.Namespace(n_samples=3, use_vae=True, lpips_weights=None)
    metric = LPIPSDiversity(opt, torch.device('cpu'))
    torch.manual_seed(2)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    metric.add([x, x.clone(), x.clone()])
    assert metric.result()['lpips_diversity'] == pytest.approx(0.0, abs=1e-7)
    metric.add([x, torch.rand_like(x), torch.rand_like(x)])
    assert metric.result()['lpips_diversity'] > 0
    with pytest.raises(UserError, match='--n_samples 2'):
        LPIPSDiversity(argparse.Namespace(n_samples=1, use_vae=True, lpips_weights=None), torch.device('cpu'))
    with pytest.raises(UserError, match='--use_vae'):
        LPIPSDiversity(argparse.Namespace(n_samples=3, use_vae=False, lpips_weights=None), torch.device('cpu'))
