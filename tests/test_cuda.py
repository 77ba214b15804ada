"""On a CUDA GPU (skipped elsewhere: CI and most development machines have none): the released
checkpoints' fixtures within tolerance; the fast paths, which run on the CPU only by default
(semsyn/paths.py) but may be asked for on the GPU, equal to the reference path (float64 and float32,
small and released configurations); autocast training (bf16, fp16) of every released configuration
on the reference path, the default and the fast operations on the GPU: finite losses, float32
parameters, the same images within half precision's rounding."""
import copy
import os

import pytest
import torch

import semsyn.kernels.scgan as scgan_kernels
from semsyn.models import create_network
from semsyn.models.synthesis import SynthesisModel, one_hot_semantics
from semsyn.options import resolve
from semsyn.paths import fast_paths, reference_path
from semsyn.training.trainer import Trainer
from tests.conftest import REPO
from tests.kernels.test_fast_paths import (
    F64,
    FLOAT32_NAMES,
    SMALL,
    assert_same,
    blocky_labels,
    one_hot,
    rel,
    run_both,
    small_generator,
)
from tests.models.test_fixtures import check_fixture, fixture_names

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU (none on this machine)')

CUDA = torch.device('cuda')
CONFIGS = {'spade': 'spade_ade20k.yml', 'ccfpse': 'ccfpse_ade20k.yml', 'scgan': 'scgan_ade20k.yml'}


@pytest.fixture(autouse=True)
def exact_float32(monkeypatch):
    """TF32 off: float32 convolutions and products compute in float32 (cuDNN's default is TF32)."""
    monkeypatch.setattr(torch.backends.cudnn, 'allow_tf32', False)
    matmul = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision('highest')
    yield
    torch.set_float32_matmul_precision(matmul)


@pytest.mark.parametrize('name', fixture_names() or ['<none>'])
def test_fixture_reproduces_original_on_cuda(name):
    check_fixture(name, CUDA)


@pytest.fixture
def chunked_modulation(monkeypatch):
    monkeypatch.setattr(scgan_kernels, 'MODULATE_MIN_PIXELS', 0)


@pytest.fixture
def fast_on_gpu():
    """The fast paths' operations on the GPU too (run_both's fast arm)."""
    with fast_paths(devices=('cpu', 'cuda')):
        yield


@pytest.mark.parametrize('name', sorted(SMALL))
def test_fast_equals_reference_float64_on_cuda(name, chunked_modulation, fast_on_gpu):
    net = small_generator(name, False, F64).to(CUDA)
    nc = net.opt.semantic_nc
    semantics = one_hot(blocky_labels(2, nc, 32, 8, seed=2), nc, dtype=F64).to(CUDA)
    assert_same(run_both(net, semantics, F64), 1e-10)


@pytest.mark.parametrize('name', FLOAT32_NAMES)
def test_fast_equals_reference_float32_on_cuda(name, chunked_modulation, fast_on_gpu):
    net = small_generator(name, False, torch.float32, size=64).to(CUDA)
    nc = net.opt.semantic_nc
    semantics = one_hot(blocky_labels(2, nc, 64, 4, seed=4), nc).to(CUDA)
    assert_same(run_both(net, semantics, torch.float32), 1e-5, buffer_tol=1e-4)


def released(name, size, batch, amp='none'):
    """The released ADE20K configuration's options at ``size``, on the GPU."""
    return resolve(['--config', os.path.join(REPO, 'config', CONFIGS[name])],
                   overrides={'crop_size': size, 'load_size': size, 'batchSize': batch, 'gpu_ids': '0',
                              'no_vgg_loss': True, 'amp': amp, 'nThreads': 0})


def ade20k_like(opt, batch, seed=0):
    """One-hot semantics of blocky ADE20K-like label maps (151 classes) and a real image, on the GPU."""
    size = opt.crop_size
    semantics = one_hot_semantics(blocky_labels(batch, opt.label_nc, size, 8, seed).to(CUDA), None, opt)
    real = (torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1).to(CUDA)
    return semantics, real


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_released_generator_fast_equals_reference_on_cuda(name, fast_on_gpu):
    """The released configurations at 128x128 (the fast paths' size-dependent choices included), in
    float64: outputs, every gradient and the buffers of both paths agree. (In float32 the gradients
    that are zero but for rounding, such as a bias before a batch norm, are noise on both paths.)"""
    opt = released(name, 128, 2)
    torch.manual_seed(0)
    net = create_network('G', opt).to(CUDA, F64).train()
    semantics, _ = ade20k_like(opt, 2)
    assert_same(run_both(net, semantics.to(F64), F64), 1e-10)


@pytest.mark.parametrize('amp', ['bf16', 'fp16'])
@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_autocast_training_on_cuda(name, amp):
    """Three G+D iterations of the released configuration at 128x128 under autocast, from the same
    weights, on the reference path, the default (fused Adam) and with the fast operations on the GPU:
    finite losses, float32 parameters that moved, and first images that agree within the half
    precision rounding (a fast path that broke under autocast is far off)."""
    opt = released(name, 128, 2, amp)
    torch.manual_seed(0)
    start = SynthesisModel(opt).to(CUDA)
    semantics, real = ade20k_like(opt, 2)
    images = {}
    for arm, devices in (('reference', None), ('default', None), ('fast on GPU', ('cpu', 'cuda'))):
        model = copy.deepcopy(start)
        torch.manual_seed(1)  # the same encoder noise (use_vae) on every arm
        with fast_paths(devices), reference_path(arm == 'reference'):
            trainer = Trainer(opt, model, CUDA)
            for i in range(3):
                trainer.run_generator_one_step(semantics, real)
                if i == 0:
                    images[arm] = trainer.generated.detach().float()
                trainer.run_discriminator_one_step(semantics, real)
                losses = trainer.latest_losses()
                assert all(torch.isfinite(v) for v in losses.values()), (arm, i, losses)
        assert all(p.dtype == torch.float32 and torch.isfinite(p).all() for p in model.parameters())
        before = dict(start.netG.named_parameters())
        moved = [k for k, p in model.netG.named_parameters() if not torch.equal(p, before[k])]
        if amp == 'fp16' and not moved:  # GradScaler skips steps whose scaled gradients overflowed
            assert trainer.scaler_G.get_scale() < 2.0 ** 16
        else:
            assert moved, 'three generator steps changed nothing'
    for arm in ('default', 'fast on GPU'):
        assert rel(images[arm], images['reference']) < 0.05, (arm, rel(images[arm], images['reference']))
