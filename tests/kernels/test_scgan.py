"""SCGAN's kernels (kernels/scgan.py) against the layers' own forward: the expert convolution joined
and one by one, the norm's chunked and in-place modulations; values and every gradient."""
import copy

import pytest
import torch
import torch.nn.functional as F

import semsyn.kernels.scgan as scgan_kernels
from semsyn.models.ops.spatial_conditional import SpatialCondNorm
from semsyn.paths import reference_path

from ..models.test_scgan_ops import _expert_conv


def _run(conv, fused, x, w):
    x = x.clone().requires_grad_(True)
    w = w.clone().requires_grad_(True)
    with reference_path(not fused):
        out = conv(x, w)
    (out * torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)).sum().backward()
    return out, x.grad, w.grad


@pytest.mark.parametrize('spectral', [True, False])
@pytest.mark.parametrize('train', [True, False])
@pytest.mark.parametrize('join_min', [0, 10**9])  # the joined convolution; the experts one by one (small maps)
def test_fused_expert_conv_matches_separate_convs(spectral, train, join_min, monkeypatch):
    monkeypatch.setattr(scgan_kernels, 'JOIN_MIN_PIXELS', join_min)
    ref = _expert_conv(spectral).train(train)
    fused = copy.deepcopy(ref)
    torch.manual_seed(1)
    x = torch.randn(2, 5, 7, 6, dtype=torch.float64)
    w = torch.softmax(torch.randn(2, 3, 7, 6, dtype=torch.float64), dim=1)
    out_r, gx_r, gw_r = _run(ref, False, x, w)
    out_f, gx_f, gw_f = _run(fused, True, x, w)
    torch.testing.assert_close(out_f, out_r, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gx_f, gx_r, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gw_f, gw_r, rtol=1e-12, atol=1e-12)
    name = 'weight_orig' if spectral else 'weight'
    for k in range(3):
        a, b = fused.conv_bases[k], ref.conv_bases[k]
        torch.testing.assert_close(getattr(a, name).grad, getattr(b, name).grad, rtol=1e-12, atol=1e-12)
        if spectral:  # the same power iteration ran (training) or none (eval)
            torch.testing.assert_close(a.weight_u, b.weight_u, rtol=0, atol=0)
            torch.testing.assert_close(a.weight_v, b.weight_v, rtol=0, atol=0)


@pytest.mark.parametrize('join_min', [0, 10**9])
def test_fused_expert_conv_channels_last(join_min, monkeypatch):
    monkeypatch.setattr(scgan_kernels, 'JOIN_MIN_PIXELS', join_min)
    ref = _expert_conv(spectral=True).eval()
    cl = copy.deepcopy(ref).to(memory_format=torch.channels_last)
    torch.manual_seed(2)
    x = torch.randn(2, 5, 6, 7, dtype=torch.float64)
    w = torch.softmax(torch.randn(2, 3, 6, 7, dtype=torch.float64), dim=1)
    expected = _run(ref, False, x, w)
    got = _run(cl, True, x.contiguous(memory_format=torch.channels_last),
               w.contiguous(memory_format=torch.channels_last))
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    for k in range(3):
        torch.testing.assert_close(cl.conv_bases[k].weight_orig.grad, ref.conv_bases[k].weight_orig.grad,
                                   rtol=1e-12, atol=1e-12)



@pytest.mark.parametrize('kind', ['batch', 'instance'])
@pytest.mark.parametrize('chunk_bytes', [None, 160])  # the default, and chunks of 5 pixels (last one partial)
def test_spatial_cond_norm_in_place_modulation_equals_reference(kind, chunk_bytes, monkeypatch):
    """Without a gradient the fast path modulates the normalised map in place, chunk by chunk of
    pixels; the output equals the original's computation, and the input is left alone."""
    if chunk_bytes is not None:
        monkeypatch.setattr(scgan_kernels, 'MODULATE_CHUNK_BYTES', chunk_bytes)
    torch.manual_seed(3)
    norm = SpatialCondNorm(kind, 4, 3).double()
    with torch.no_grad():
        norm.affine_params_groups.normal_()
    norm.train(False)
    if kind == 'batch':
        norm.param_free_norm.running_mean.normal_()
    x = torch.randn(2, 4, 6, 7, dtype=torch.float64)
    w = torch.softmax(torch.randn(2, 3, 6, 7, dtype=torch.float64), 1)
    before = x.clone()
    with torch.no_grad():
        fast = norm(x, w)
        with reference_path():
            ref = norm(x, w)
    torch.testing.assert_close(fast, ref, rtol=1e-12, atol=1e-12)
    assert torch.equal(x, before)
    assert not torch.equal(ref, F.instance_norm(x) if kind == 'instance' else ref * 0)  # a real modulation


@pytest.mark.parametrize('kind', ['batch', 'instance'])
@pytest.mark.parametrize('chunk_bytes', [None, 160])  # the default, and chunks of 5 pixels (last one partial)
@pytest.mark.parametrize('needs', ['all', 'x', 'weights', 'groups'])
@pytest.mark.parametrize('min_pixels', [0, 10**9], ids=['chunked', 'autograd'])
def test_spatial_cond_norm_gradients_equal_reference(kind, chunk_bytes, needs, min_pixels, monkeypatch):
    """Under autograd on the CPU the fast path modulates large maps chunk by chunk of pixels in a
    Function of its own (parameters recomputed in the backward), small ones by autograd's ops; output
    and the gradients of the input, the routing weights and the experts' affine parameters equal the
    original's, also when only one is needed."""
    if chunk_bytes is not None:
        monkeypatch.setattr(scgan_kernels, 'MODULATE_CHUNK_BYTES', chunk_bytes)
    monkeypatch.setattr(scgan_kernels, 'MODULATE_MIN_PIXELS', min_pixels)
    torch.manual_seed(4)
    norm = SpatialCondNorm(kind, 4, 3).double()
    with torch.no_grad():
        norm.affine_params_groups.normal_()
    x0 = torch.randn(2, 4, 6, 7, dtype=torch.float64)
    w0 = torch.softmax(torch.randn(2, 3, 6, 7, dtype=torch.float64), 1)
    g = torch.randn(2, 4, 6, 7, dtype=torch.float64)
    results = []
    for reference in (False, True):
        x, w = x0.clone().requires_grad_(needs in ('all', 'x')), w0.clone().requires_grad_(needs in ('all', 'weights'))
        norm.affine_params_groups.requires_grad_(needs in ('all', 'groups'))
        norm.zero_grad()
        with reference_path(reference):
            out = norm(x, w)
        out.backward(g)
        results.append([out.detach(), x.grad, w.grad, norm.affine_params_groups.grad])
    for fast, ref in zip(*results):
        if ref is None:
            assert fast is None
        else:
            torch.testing.assert_close(fast, ref, rtol=1e-12, atol=1e-12)
    assert sum(r is not None for r in results[1][1:]) == (3 if needs == 'all' else 1)


