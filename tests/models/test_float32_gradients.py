"""Float32 gradients of the generators stay close to a float64 computation of the same weights (the
originals' float32 gradients are within a few 1e-6 of float64): no reordering of the fast paths
may lose precision. Weights and input: the reference fixtures (trained-like states of the originals)."""
import copy
import json

import pytest
import torch

from semsyn.models import create_network
from semsyn.paths import reference_path
from tests.conftest import REFERENCE, require
from tests.models.test_fixtures import call_args

FIXTURES = REFERENCE / 'fixtures'


def gradients(net, args, dtype, reference):
    net = copy.deepcopy(net).to(dtype).train()
    args = [a.to(dtype) if torch.is_tensor(a) and a.is_floating_point() else a for a in args]
    with reference_path(reference):
        out = net(*args)
    image = out[0] if isinstance(out, tuple) else out
    weights = torch.randn(image.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    (image * weights.to(dtype)).sum().backward()
    return {k: p.grad.double() for k, p in net.named_parameters() if p.grad is not None}


def relative_errors(net, args, reference, exact):
    """Per parameter: |float32 gradient - float64 gradient| / |float64 gradient|, for the gradients
    that are not exactly zero (a bias before a batch norm)."""
    single = gradients(net, args, torch.float32, reference)
    top = max(g.norm() for g in exact.values())
    return {key: float((single[key] - g).norm() / g.norm()) for key, g in exact.items() if g.norm() > 1e-6 * top}


@pytest.mark.parametrize('name, reference', [('scgan_G_ade20k_like', False), ('scgan_G_ade20k_like', True),
                                             ('spade_G', False), ('ccfpse_G', False)],
                         ids=['scgan-fast', 'scgan-reference', 'spade-fast', 'ccfpse-fast'])
def test_float32_gradients_match_float64(name, reference):
    """Within 1e-4 of float64 (relative, per parameter), or, where the original's own float32 gradient
    is further off on this CPU (CC-FPSE's kernel predictors: ~3e-4 with AMD EPYC's oneDNN kernels,
    within 1e-4 with Intel Xeon's), no more than 1.5x the original's error."""
    require(FIXTURES, 'reference fixtures')
    fx = torch.load(FIXTURES / f'{name}.pt', weights_only=True)
    meta = json.loads((FIXTURES / f'{name}.json').read_text())
    net = create_network('G', fx['options'])
    net.load_state_dict(fx['state_dict'])
    args = call_args(meta['forward_call'], fx['inputs'])
    exact = gradients(net, args, torch.float64, True)
    errors = relative_errors(net, args, reference, exact)
    original = errors if reference else relative_errors(net, args, True, exact)
    for key, error in errors.items():
        assert error < max(1e-4, 1.5 * original[key]), (key, error, original[key])
