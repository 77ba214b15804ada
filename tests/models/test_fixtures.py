"""Every reference fixture the code supports: strict load, outputs within the sidecar tolerance."""
import json
import re

import pytest
import torch

from semsyn.models import create_network
from tests.conftest import REFERENCE, require

FIXTURES = REFERENCE / 'fixtures'
# fixture class -> network role
ROLES = {'SPADEGenerator': 'G', 'CondConvGenerator': 'G', 'SCGGenerator': 'G', 'MultiscaleDiscriminator': 'D',
         'FPSEDiscriminator': 'D', 'ConvEncoder': 'E'}


def fixture_names():
    if not FIXTURES.is_dir():
        return []
    return sorted(p.stem for p in FIXTURES.glob('*.json'))


def call_args(forward_call, inputs):
    """Arguments of the first `net(...)` in the sidecar's forward_call, taken from the fixture inputs."""
    args = re.match(r'\s*net\(([^)]*)\)', forward_call).group(1)
    return [None if a.strip() == 'None' else inputs[a.strip()] for a in args.split(',') if a.strip()]


def select(ret, path, net, inputs):
    """Evaluate a sidecar path such as 'ret[2][3]' or 'net(image_resize)[1]'."""
    m = re.match(r'net\((\w+)\)((?:\[\d+\])*)$', path)
    if m:
        value, index = net(inputs[m.group(1)]), m.group(2)
    else:
        value, index = ret, path[len('ret'):]
    for i in re.findall(r'\[(\d+)\]', index):
        value = value[int(i)]
    return value


def check_fixture(name, device=torch.device('cpu')):
    """Fixture ``name``: strict load of the original's state dict, outputs on ``device`` within the
    sidecar's tolerance."""
    require(FIXTURES, 'reference fixtures')
    meta = json.loads((FIXTURES / f'{name}.json').read_text())
    role = ROLES.get(meta['class'])
    if role is None:
        pytest.skip(f'{meta["class"]} ({meta["source"]}) is not implemented yet')
    fx = torch.load(FIXTURES / f'{name}.pt', weights_only=True)
    net = create_network(role, fx['options']).eval()
    assert list(net.state_dict().keys()) == list(fx['state_dict'].keys())
    net.load_state_dict(fx['state_dict'], strict=True)
    net.to(device)
    inputs = {k: v.to(device) if torch.is_tensor(v) else v for k, v in fx['inputs'].items()}
    with torch.no_grad():
        ret = net(*call_args(meta['forward_call'], inputs))
        for out_name, ref in fx['outputs'].items():
            spec = meta['outputs'][out_name]
            ours = select(ret, spec['path_in_return_value'], net, inputs)
            assert tuple(ours.shape) == tuple(ref.shape), out_name
            atol = meta['suggested_tolerance']['atol_per_output'][out_name]
            diff = (ours.cpu() - ref).abs().max().item()
            assert diff <= atol, f'{name}.{out_name}: max |diff| {diff:.3g} > {atol:.3g}'


@pytest.mark.parametrize('name', fixture_names() or ['<none>'])
def test_fixture_reproduces_original(name):
    check_fixture(name)


def test_fixture_catches_a_wrong_network():
    """The comparison above is sharp: bilinear instead of nearest label resizing breaks spade_G."""
    require(FIXTURES, 'reference fixtures')
    fx = torch.load(FIXTURES / 'spade_G.pt', weights_only=True)
    net = create_network('G', fx['options']).eval()
    net.load_state_dict(fx['state_dict'])
    seg = fx['inputs']['input_semantics']
    with torch.no_grad():
        wrong = net(torch.nn.functional.interpolate(seg, scale_factor=0.5, mode='bilinear').repeat_interleave(
            2, dim=2).repeat_interleave(2, dim=3))
    assert (wrong - fx['outputs']['fake_image']).abs().max() > 1e-3
