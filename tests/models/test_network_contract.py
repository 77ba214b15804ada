"""The contract every registered network keeps, in the style of diffusers' shared model tests.

Parametrised over the registries (GENERATORS, DISCRIMINATORS, the encoders the generators pair
with): a new method gets these tests by registering. Small options; CPU.
"""
import os
import socket

import pytest
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from semsyn.checkpoints import load_network, save_network
from semsyn.errors import UserError
from semsyn.models import DISCRIMINATORS, GENERATORS, create_network, options_from
from semsyn.models.synthesis import one_hot_semantics

BASE = {'gpu_ids': '-1', 'dataset_mode': 'synthetic', 'label_nc': 5, 'crop_size': 64, 'load_size': 64, 'ngf': 4,
        'ndf': 8, 'nrf': 8, 'nff': 4, 'num_experts_conv': 2, 'num_experts_norm': 3, 'z_dim': 16,
        'no_instance': False, 'channels_G': 4}

ENCODER_OF = {}  # one generator per distinct encoder class
for _name, _cls in GENERATORS.items():
    ENCODER_OF.setdefault(_cls.encoder, _name)

NETWORKS = ([('G', name) for name in GENERATORS] + [('D', name) for name in DISCRIMINATORS]
            + [('E', name) for name in ENCODER_OF.values()])


def options(role, name):
    values = dict(BASE)
    values['netD' if role == 'D' else 'netG'] = name
    if role == 'E':
        values['use_vae'] = True
    return options_from(values)


def build(role, name, seed=0):
    torch.manual_seed(seed)
    return create_network(role, options(role, name))


def inputs(opt, seed=1):
    g = torch.Generator().manual_seed(seed)
    label = torch.randint(0, opt.label_nc, (2, 1, opt.crop_size // 8, opt.crop_size // 8), generator=g)
    label = label.repeat_interleave(8, 2).repeat_interleave(8, 3)
    instance = torch.randint(0, 3, label.shape, generator=g)
    semantics = one_hot_semantics(label, instance, opt)
    images = torch.rand(2, 3, opt.crop_size, opt.crop_size, generator=g) * 2 - 1
    return semantics, images


def run(role, net, opt, seed=1, call=None):
    """Every tensor output of the network, flattened into a list (the image / score maps first).
    ``call``: what to call instead of net itself (a DataParallel or DDP wrapper of it)."""
    semantics, images = inputs(opt, seed)
    call = call or net
    torch.manual_seed(seed)  # the same noise for generators that draw their own (OASIS's 3D noise)
    if role == 'G':
        # a generator with noise of its own (OASIS) gets the same noise on every run
        shape = net.noise_shape(semantics)
        z = None if shape is None else torch.randn(*shape, generator=torch.Generator().manual_seed(seed))
        image, extras = net.image_and_extras(call(semantics) if z is None else call(semantics, z=z))
        return [image] + [t for v in extras.values() for t in (v if isinstance(v, (list, tuple)) else [v])]
    if role == 'D':
        preds, groups = net.predictions_and_features(call(*net.inputs(images, semantics)))
        return list(preds) + [f for g in groups for f in g]
    return list(call(images))


def warmed(net, role, opt):
    """In eval mode as after training: batch-norm statistics and spectral-norm vectors settled by a
    few training-mode forwards (at initialisation they are not, and eval outputs saturate)."""
    net.train()
    with torch.no_grad():
        for seed in range(3):
            run(role, net, opt, seed=seed)
    return net.eval()


def ids(param):
    return '-'.join(param)


@pytest.mark.parametrize('role,name', NETWORKS, ids=[ids(n) for n in NETWORKS])
def test_save_load_round_trip_is_strict(role, name, tmp_path):
    net = build(role, name).eval()
    path = tmp_path / 'net.pth'
    save_network(net, path)
    other = load_network(build(role, name, seed=7).eval(), path)
    with torch.no_grad():
        for a, b in zip(run(role, net, options(role, name)), run(role, other, options(role, name))):
            assert torch.equal(a, b)
    state = torch.load(path, weights_only=True)
    dropped = dict(list(state.items())[1:])
    torch.save(dropped, tmp_path / 'missing.pth')
    with pytest.raises(UserError, match='missing keys'):
        load_network(build(role, name), tmp_path / 'missing.pth')
    torch.save({**state, 'extra.weight': torch.zeros(1)}, tmp_path / 'extra.pth')
    with pytest.raises(UserError, match='unexpected keys'):
        load_network(build(role, name), tmp_path / 'extra.pth')


@pytest.mark.parametrize('role,name', NETWORKS, ids=[ids(n) for n in NETWORKS])
def test_deterministic_with_sane_outputs(role, name):
    opt = options(role, name)
    a, b = build(role, name).eval(), build(role, name).eval()
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    with torch.no_grad():
        first, again = run(role, a, opt), run(role, a, opt)
    assert all(torch.equal(x, y) for x, y in zip(first, again))
    assert all(torch.isfinite(t).all() for t in first)
    if role == 'G':
        assert first[0].shape == (2, 3, opt.crop_size, opt.crop_size)
        assert first[0].min() >= -1 and first[0].max() <= 1
    elif role == 'E':
        out = type(a).out_features(opt)
        assert [t.shape for t in first] == [(2, out), (2, out)]
    else:
        preds, groups = a.predictions_and_features(a(*a.inputs(*reversed(inputs(opt)))))
        assert preds and all(p.shape[0] == 2 and p.shape[1] == a.score_channels(opt) for p in preds)
        assert bool(groups) == a.feature_matching and all(f.shape[0] == 2 for g in groups for f in g)


def perturbed(net, scale=0.05):
    """Away from zero/identity initialisations, so every path carries a gradient."""
    torch.manual_seed(3)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(scale * torch.randn_like(p))
    return net


@pytest.mark.parametrize('role,name', NETWORKS, ids=[ids(n) for n in NETWORKS])
def test_gradient_reaches_every_trainable_parameter(role, name):
    net = perturbed(build(role, name)).train()
    loss = sum(t.float().square().mean() for t in run(role, net, options(role, name)))
    loss.backward()
    unused = [n for n, p in net.named_parameters()
              if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)]
    assert unused == []


@pytest.mark.parametrize('role,name', NETWORKS, ids=[ids(n) for n in NETWORKS])
def test_bf16_autocast_stays_close_to_fp32(role, name):
    opt = options(role, name)
    net = warmed(build(role, name), role, opt)
    with torch.no_grad():
        full = run(role, net, opt)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            half = run(role, net, opt)
    for a, b in zip(full, half):
        rel = float((a - b.float()).norm() / a.norm().clamp(min=1e-6))
        assert rel < 0.08, rel


@pytest.fixture(scope='module')
def process_group():
    """A one-process gloo group, enough to wrap and step DistributedDataParallel on the CPU."""
    if dist.is_initialized():
        yield
        return
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    os.environ['MASTER_PORT'] = str(port)
    dist.init_process_group('gloo', rank=0, world_size=1)
    yield
    dist.destroy_process_group()


@pytest.mark.parametrize('role,name', NETWORKS, ids=[ids(n) for n in NETWORKS])
def test_wraps_in_data_parallel_and_ddp(role, name, process_group):
    opt = options(role, name)
    net = warmed(build(role, name), role, opt)
    with torch.no_grad():
        plain = run(role, net, opt)
        wrapped = run(role, net, opt, call=torch.nn.DataParallel(net))
    assert all(torch.equal(a, b) for a, b in zip(plain, wrapped))
    ddp = DistributedDataParallel(perturbed(net).train())  # no find_unused_parameters: all must be used
    for step in range(2):  # an unused parameter is reported at the second step
        ddp.zero_grad()
        sum(t.float().square().mean() for t in run(role, net, opt, seed=step, call=ddp)).backward()
    assert all(p.grad is not None for p in net.parameters() if p.requires_grad)
