"""Released configurations: our networks have exactly the original state-dict keys, order and shapes."""
import json

import pytest
import torch

from semsyn.models import create_network
from tests.conftest import REFERENCE, require

MANIFESTS = REFERENCE / 'manifests'
SUPPORTED = {'SPADEGenerator', 'CondConvGenerator', 'SCGGenerator', 'MultiscaleDiscriminator', 'FPSEDiscriminator',
             'ConvEncoder'}


def manifest_names():
    if not MANIFESTS.is_dir():
        return []
    return sorted(p.stem for p in MANIFESTS.glob('*.json'))


@pytest.mark.parametrize('name', manifest_names() or ['<none>'])
def test_manifest_keys_and_shapes(name):
    require(MANIFESTS, 'reference manifests')
    m = json.loads((MANIFESTS / f'{name}.json').read_text())
    if m['class'] not in SUPPORTED:
        pytest.skip(f'{m["class"]} ({m["source"]}) is not implemented yet')
    options = dict(m['options'])
    if m['network'] == 'D':
        options.pop('netG')  # D doesn't depend on the generator choice (E does: SCGAN's encoder)
    with torch.device('meta'):  # shapes only: no memory for 100M-parameter generators
        net = create_network(m['network'], options, init=False)
    ours = {k: list(v.shape) for k, v in net.state_dict().items()}
    assert list(ours) == list(m['params']), 'key names or order differ'
    assert ours == m['params']
    assert sum(p.numel() for p in net.parameters()) == m['num_parameters']
    buffers = {k for k, _ in net.named_buffers()}
    assert buffers == set(m['buffers'])
