"""OASIS's run folders as its released models come (checkpoints/<name>/models/best_{G,D,EMA}.pth):
test.py, the inference loader and the Python API read them unchanged, the EMA generator by default;
outputs equal direct calls of the generator with those weights. The Python API's seed is OASIS's
noise: another seed, another picture; the same seed, the same picture."""
import numpy as np
import pytest
import torch

from semsyn import Synthesizer
from semsyn.app import PaintingApp
from semsyn.errors import UserError
from semsyn.inference import load_generator_model
from semsyn.models import create_network
from semsyn.models.synthesis import one_hot_semantics
from semsyn.options import resolve, write_options_main
from semsyn.testing import run_test

OPTIONS = ['--netG', 'oasis', '--dataset_mode', 'synthetic', '--channels_G', '2', '--crop_size', '64',
           '--gpu_ids', '-1']


@pytest.fixture(scope='module')
def released(tmp_path_factory):
    """A folder in OASIS's layout with random weights (torch's default init: not flat), EMA != G."""
    root = tmp_path_factory.mktemp('oasis_released')
    models = root / 'oasis_tiny' / 'models'
    models.mkdir(parents=True)
    train_opt = resolve(OPTIONS, is_train=True)
    torch.manual_seed(0)
    nets = {'G': create_network('G', train_opt, init=False), 'EMA': create_network('G', train_opt, init=False),
            'D': create_network('D', train_opt, init=False)}
    for net in (nets['G'], nets['EMA']):  # settled running statistics, as after training
        net.train()
        with torch.no_grad():
            net(one_hot_semantics(torch.randint(0, 6, (2, 1, 64, 64)), None, train_opt))
    for role, net in nets.items():
        torch.save(net.state_dict(), models / f'best_{role}.pth')
    return root, nets


def run_options(root, *extra):
    return resolve(OPTIONS + ['--checkpoints_dir', str(root), '--name', 'oasis_tiny'] + list(extra), is_train=False)


def labels(seed=3):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 6, (2, 1, 8, 8), generator=g).repeat_interleave(8, 2).repeat_interleave(8, 3)


@pytest.mark.parametrize('no_ema', [False, True])
def test_released_files_load_and_give_the_generators_outputs(released, no_ema):
    root, nets = released
    opt = run_options(root, *(['--no_ema'] if no_ema else []))
    model = load_generator_model(opt, torch.device('cpu'))
    expected = nets['G' if no_ema else 'EMA'].eval()
    for key, value in expected.state_dict().items():
        assert torch.equal(model.netG.state_dict()[key], value), key
    semantics = one_hot_semantics(labels(), None, opt)
    z = torch.randn(2, opt.z_dim, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        direct = expected(semantics, z=z)
    assert torch.equal(model(semantics, None, mode='inference', z=z), direct)
    other = nets['EMA' if no_ema else 'G'].eval()
    with torch.no_grad():
        assert not torch.allclose(other(semantics, z=z), direct)


def test_test_py_runs_on_the_released_layout(released, tmp_path):
    root, _ = released
    opt = run_options(root, '--results_dir', str(tmp_path), '--how_many', '2', '--batchSize', '2',
                       '--synthetic_size', '2', '--nThreads', '0')
    run_test(opt)
    assert list(tmp_path.rglob('*.png'))


def test_python_api_seed_is_the_noise(released):
    root, _ = released
    folder = root / 'oasis_tiny'
    write_options_main([str(folder)] + OPTIONS)
    s = Synthesizer.from_checkpoint(folder)
    assert s.has_noise
    label = np.kron(np.array([[0, 1], [2, 5]]), np.ones((16, 16), dtype=np.int64))
    one, again, two = (np.asarray(s(label, seed=k)) for k in (1, 1, 2))
    assert np.array_equal(one, again)
    assert np.abs(one.astype(int) - two.astype(int)).max() > 0
    with pytest.raises(UserError, match='pass seed'):
        s(label, style=np.zeros((8, 8, 3), dtype=np.uint8))
    assert PaintingApp(s, 'oasis_tiny').info['seeded']
