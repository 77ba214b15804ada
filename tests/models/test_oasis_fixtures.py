"""OASIS's networks against what the original produced (../shared/reference/oasis): every
manifest's key list and shapes in state-dict order (the EMA generator a copy of G), and every
network fixture reproduced within its sidecar's tolerance."""
import copy
import json
from types import SimpleNamespace

import pytest
import torch

from semsyn.models.discriminators.oasis import OASISDiscriminator
from semsyn.models.generators.oasis import OASISGenerator, region_noise
from tests.conftest import REFERENCE, require

OASIS = REFERENCE / 'oasis'
DEFAULTS = {'no_spectral_norm': False, 'no_3dnoise': False, 'z_dim': 64, 'param_free_norm': 'syncbatch',
            'spade_ks': 3, 'channels_G': 64, 'num_res_blocks': 6, 'aspect_ratio': 1.0}


def _files(folder, pattern):
    base = OASIS / folder
    return sorted(base.glob(pattern)) if base.exists() else []


def _build(role, options):
    opt = SimpleNamespace(**{**DEFAULTS, **options})
    return OASISGenerator(opt) if role == 'G' else OASISDiscriminator(opt)


def _role(meta):
    return 'G' if meta['class'] == 'OASIS_Generator' else 'D'


def _ids(path):
    return getattr(path, 'stem', 'none')


@pytest.mark.parametrize('path', _files('manifests', 'oasis_*.json') or [None], ids=_ids)
def test_manifest_keys_and_shapes(path):
    require(OASIS / 'manifests', 'OASIS manifests')
    meta = json.loads(path.read_text())
    with torch.device('meta'):
        net = _build(_role(meta), meta['options'])
    nets = [net, copy.deepcopy(net)] if _role(meta) == 'G' else [net]  # the EMA generator is a deepcopy
    for n in nets:
        ours = [(k, list(v.shape)) for k, v in n.state_dict().items()]
        assert ours == [(k, list(v)) for k, v in meta['params'].items()]
        assert sum(p.numel() for p in n.parameters()) == meta['num_parameters']


@pytest.mark.parametrize('path', _files('fixtures', 'oasis_*.pt') or [None], ids=_ids)
def test_fixture_reproduced(path):
    require(OASIS / 'fixtures', 'OASIS fixtures')
    fx = torch.load(path, weights_only=True)
    side = json.loads(path.with_suffix('.json').read_text())
    role = _role(side)
    net = _build(role, fx['options'])
    net.load_state_dict(fx['state_dict'], strict=True)
    net.train(side['mode'] == 'train')
    with torch.no_grad():
        if role == 'G':
            out = {'fake_image': net(fx['inputs']['input_semantics'], z=fx['inputs']['z'])}
        else:
            out = {'logits': net(fx['inputs']['image'])}
    for name, ref in fx['outputs'].items():
        tol = 1e-4 * max(1.0, ref.abs().max().item())
        assert (out[name] - ref).abs().max().item() <= tol, name
    after = fx.get('state_dict_after')
    if after:
        state = net.state_dict()
        for key, ref in after.items():
            assert (state[key] - ref).abs().max().item() <= 1e-4, key


def test_generator_uses_given_z_and_region_noise():
    opt = {'channels_G': 2, 'semantic_nc': 4, 'crop_size': 64, 'z_dim': 8}
    torch.manual_seed(0)
    net = _build('G', opt).eval()
    label = torch.zeros(1, 4, 64, 64)
    label[:, 1, :, :32] = 1
    label[:, 2, :, 32:] = 1
    z = torch.randn(1, 8)
    with torch.no_grad():
        a, b = net(label, z=z), net(label, z=z)
        assert torch.equal(a, b)  # a z passed in is used, not redrawn
        regions = label.argmax(1, keepdim=True)
        zs = torch.randn(4, 8)
        zmap = region_noise(regions, zs)
        # same z for every region: the same image as the broadcast z
        same = net(label, z=region_noise(regions, z.expand(4, 8)))
    assert (same - a).abs().max() < 1e-6
    assert torch.equal(zmap[0, :, 5, 3], zs[1]) and torch.equal(zmap[0, :, 5, 40], zs[2])
    assert zmap.shape == (1, 8, 64, 64)
