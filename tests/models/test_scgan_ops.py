"""SCGAN's conditional layers as the original computes them: expert convolution, channel pooling of
the routing features, routing activation, spatial conditional norm, position prior and label
pyramid (their kernels: tests/kernels/test_scgan.py)."""
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from semsyn.models.ops.routing import gaussian_window, label_pyramid, position_prior
from semsyn.models.ops.spatial_conditional import SpatialCondConv2d, SpatialCondNorm, channel_pool, routing_activation
from semsyn.paths import reference_path

# ---------------------------------------------------------------------------------------------
# expert convolution

def _expert_conv(spectral, experts=3, cin=5, cout=4):
    torch.manual_seed(0)
    conv = SpatialCondConv2d(cin, cout, experts, spectral=spectral).double()
    for base in conv.conv_bases:
        w = base.weight_orig if spectral else base.weight
        w.data.normal_(0, 0.3)
    return conv


def test_expert_conv_is_the_routing_weighted_sum():
    conv = _expert_conv(spectral=True).eval()
    x = torch.randn(1, 5, 4, 4, dtype=torch.float64)
    w = torch.rand(1, 3, 4, 4, dtype=torch.float64)
    with torch.no_grad():
        expected = sum(w[:, k:k + 1] * conv.conv_bases[k](x) for k in range(3))
        # one-hot routing selects one expert
        onehot = F.one_hot(torch.tensor(2), 3).double().view(1, 3, 1, 1).expand(1, 3, 4, 4)
        torch.testing.assert_close(conv(x, onehot), conv.conv_bases[2](x))
        torch.testing.assert_close(conv(x, w), expected)
    assert all(c.bias is None for c in conv.conv_bases)
    assert set(conv.state_dict()) == {f'conv_bases.{k}.{n}' for k in range(3) for n in ('weight_orig', 'weight_u',
                                                                                      'weight_v')}


def test_expert_conv_eval_uses_stored_vectors():
    """In eval, sigma = u^T W v from the stored u/v (no power iteration), also in the fused path."""
    conv = _expert_conv(spectral=True).eval()
    base = conv.conv_bases[1]
    u_before = base.weight_u.clone()
    x = torch.randn(1, 5, 3, 3, dtype=torch.float64)
    w = torch.zeros(1, 3, 3, 3, dtype=torch.float64)
    w[:, 1] = 1
    with torch.no_grad():
        out = conv(x, w)
    sigma = torch.dot(base.weight_u, base.weight_orig.flatten(1) @ base.weight_v)
    torch.testing.assert_close(out, F.conv2d(x, base.weight_orig / sigma, padding=1))
    assert torch.equal(base.weight_u, u_before)


# ---------------------------------------------------------------------------------------------
# routing weights

@pytest.mark.parametrize('reference', [False, True], ids=['fast', 'reference'])
def test_channel_pool_overlapping_bins(reference):
    """K=3 bins over C=5 channels: floor(i*5/3) .. ceil((i+1)*5/3) -> {0,1}, {1,2,3}, {3,4}."""
    values = torch.tensor([1., 2., 3., 4., 5.])
    f = values.view(1, 5, 1, 1).expand(2, 5, 3, 2).contiguous()
    with reference_path(reference):
        pooled = channel_pool(f, 3)
    assert pooled.shape == (2, 3, 3, 2)
    expected = torch.tensor([(1 + 2) / 2, (2 + 3 + 4) / 3, (4 + 5) / 2]).view(1, 3, 1, 1).expand(2, 3, 3, 2)
    torch.testing.assert_close(pooled, expected)


@pytest.mark.parametrize('reference', [False, True], ids=['fast', 'reference'])
def test_channel_pool_bins_per_pixel(reference):
    torch.manual_seed(0)
    f = torch.randn(2, 64, 4, 5)
    with reference_path(reference):
        pooled = channel_pool(f, 3)  # 64 = 21.33 * 3: bins 0..21, 21..42, 42..63 (inclusive)
        by_four = channel_pool(f, 4)
    for i, (lo, hi) in enumerate([(0, 22), (21, 43), (42, 64)]):
        torch.testing.assert_close(pooled[:, i], f[:, lo:hi].mean(1))
    torch.testing.assert_close(by_four, f.view(2, 4, 16, 4, 5).mean(2))  # divisible: plain groups


def test_channel_pool_gradient_matches_the_reference():
    """The fast path's averaging-matrix product has adaptive pooling's gradient: each channel gets
    the gradient of every bin it is in over that bin's channel count."""
    torch.manual_seed(0)
    f = torch.randn(2, 37, 6, 5, dtype=torch.float64)
    g = torch.randn(2, 4, 6, 5, dtype=torch.float64)
    grads = []
    for reference in (False, True):
        x = f.clone().requires_grad_()
        with reference_path(reference):
            channel_pool(x, 4).backward(g)
        grads.append(x.grad)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-12, atol=1e-12)


def test_routing_activation_softmax_sigmoid_temperature():
    raw = torch.tensor([0., 1., 3.]).view(1, 3, 1, 1)
    soft = routing_activation(raw, 'softmax', 2.0)
    expected = torch.exp(torch.tensor([0., 2., 6.]))  # temperature multiplies
    torch.testing.assert_close(soft.view(3), expected / expected.sum())
    torch.testing.assert_close(soft.sum(1), torch.ones(1, 1, 1))
    sig = routing_activation(raw, 'sigmoid', 0.5)
    torch.testing.assert_close(sig.view(3), torch.sigmoid(torch.tensor([0., 0.5, 1.5])))
    # a small temperature flattens the softmax towards uniform weights
    flat = routing_activation(raw * 100, 'softmax', 1e-6)
    torch.testing.assert_close(flat.view(3), torch.full((3,), 1 / 3), atol=1e-3, rtol=0)
    with pytest.raises(ValueError):
        routing_activation(raw, 'tanh', 1.0)


# ---------------------------------------------------------------------------------------------
# spatial conditional norm

def test_spatial_cond_norm_per_pixel_affine():
    norm = SpatialCondNorm('syncbatch', 2, 3).eval()
    assert set(norm.state_dict()) == {'affine_params_groups', 'param_free_norm.running_mean',
                                      'param_free_norm.running_var', 'param_free_norm.num_batches_tracked'}
    with torch.no_grad():
        norm.affine_params_groups.copy_(torch.tensor([[1., 2., 10., 20.], [3., 4., 30., 40.], [5., 6., 50., 60.]]))
        norm.param_free_norm.running_mean.copy_(torch.tensor([1., -1.]))
        norm.param_free_norm.running_var.copy_(torch.tensor([4., 9.]))
    x = torch.tensor([3., 2.]).view(1, 2, 1, 1).expand(1, 2, 1, 2).contiguous()
    w = torch.tensor([[1., 0.], [0., 0.5], [0., 0.5]]).view(1, 3, 1, 2)  # pixel 0: expert 0; pixel 1: mix 1, 2
    out = norm(x, w)
    normalized = torch.tensor([2 / math.sqrt(4 + 1e-5), 3 / math.sqrt(9 + 1e-5)])
    gamma0, beta0 = torch.tensor([1., 2.]), torch.tensor([10., 20.])
    gamma1, beta1 = torch.tensor([4., 5.]), torch.tensor([40., 50.])
    torch.testing.assert_close(out[0, :, 0, 0], normalized * (1 + gamma0) + beta0)
    torch.testing.assert_close(out[0, :, 0, 1], normalized * (1 + gamma1) + beta1)


def test_spatial_cond_norm_instance():
    norm = SpatialCondNorm('instance', 3, 2)
    assert set(norm.state_dict()) == {'affine_params_groups'}
    x = torch.randn(2, 3, 5, 5)
    w = torch.softmax(torch.randn(2, 2, 5, 5), 1)
    torch.testing.assert_close(norm(x, w), F.instance_norm(x))  # zero-initialised experts: identity affine


# ---------------------------------------------------------------------------------------------
# position prior

def test_gaussian_window_unnormalised():
    g = gaussian_window(7, 1.5)
    assert g.dtype == torch.float32 and g.shape == (7, 7)
    assert g[3, 3] == 1.0 and g.max() == 1.0
    dy, dx = torch.meshgrid(torch.arange(7.) - 3, torch.arange(7.) - 3, indexing='ij')
    torch.testing.assert_close(g, torch.exp(-(dx ** 2 + dy ** 2) / (2 * 1.5 ** 2)))


def _toy_map():
    m = torch.zeros(1, 2, 4, 5)
    m[0, 0, 1, 1] = m[0, 0, 1, 2] = 1  # two horizontal neighbours
    m[0, 0, 0, 4] = 1  # a corner pixel: its window reaches the zero padding
    m[0, 1] = 1 - m[0, 0]
    return m


def test_position_prior_hand_computed():
    a = math.exp(-1 / 2)  # neighbour weight of a 3x3 window with sigma 1; the centre weight is 1
    d = math.exp(-2 / 2)  # diagonal weight
    m = _toy_map()
    out = position_prior(m, size=3, sigma=1.0, iterations=1)
    ch0 = torch.zeros(4, 5)
    ch0[1, 1] = ch0[1, 2] = 1 + a
    ch0[0, 4] = 1
    torch.testing.assert_close(out[0, 0], ch0)
    # channel 1 is the complement; spot checks: corner (3, 0) sees three ones inside the map,
    # corner (0, 0) two (its diagonal neighbour (1, 1) is 0 in this channel)
    assert math.isclose(out[0, 1, 3, 0].item(), 1 + 2 * a + d, rel_tol=1e-6)
    assert math.isclose(out[0, 1, 0, 0].item(), 1 + 2 * a, rel_tol=1e-6)
    assert out[0, 1, 1, 1] == 0
    # two iterations: the second convolves the first result, then multiplies by the map again
    out2 = position_prior(m, size=3, sigma=1.0, iterations=2)
    assert math.isclose(out2[0, 0, 1, 1].item(), (1 + a) * (1 + a), rel_tol=1e-6)
    assert math.isclose(out2[0, 0, 0, 4].item(), 1.0, rel_tol=1e-6)
    # relative: divided by the previous iterate + 1e-8
    rel = position_prior(m, size=3, sigma=1.0, iterations=2, relative=True)
    assert math.isclose(rel[0, 0, 1, 1].item(), (1 + a) ** 2 / (1 + a + 1e-8), rel_tol=1e-6)
    assert math.isclose(rel[0, 0, 0, 4].item(), 1.0, rel_tol=1e-6)
    assert torch.equal(position_prior(m, 3, 1.0, iterations=0), m)


def _opt(**kw):
    base = dict(position=False, pyr_pos=False, pyr_rng=4, ig_sz=3, ig_sigma=1.0, ig_iter=1, ig_relative=False,
                no_instance=True)
    base.update(kw)
    return SimpleNamespace(**base)


def _prior(x):
    return position_prior(x, 3, 1.0, 1, False)


def test_label_pyramid_plain_is_bilinear_halving():
    torch.manual_seed(0)
    seg = torch.rand(1, 3, 64, 32)
    pyr = label_pyramid(seg, _opt())
    assert [tuple(p.shape[2:]) for p in pyr] == [(64, 32), (32, 16), (16, 8), (8, 4), (4, 2), (2, 1)]
    torch.testing.assert_close(pyr[1], F.avg_pool2d(seg, 2))  # exact halving: 2x2 means
    torch.testing.assert_close(pyr[5], F.avg_pool2d(seg, 32))


def test_label_pyramid_position_excludes_instance_edges():
    torch.manual_seed(0)
    seg = (torch.rand(1, 4, 32, 32) > 0.5).float()
    pyr = label_pyramid(seg, _opt(position=True, no_instance=False))
    torch.testing.assert_close(pyr[0][:, :3], _prior(seg[:, :3]))
    assert torch.equal(pyr[0][:, 3], seg[:, 3])
    torch.testing.assert_close(pyr[1], F.avg_pool2d(pyr[0], 2))
    pyr_all = label_pyramid(seg, _opt(position=True, no_instance=True))
    torch.testing.assert_close(pyr_all[0], _prior(seg))


@pytest.mark.parametrize('pyr_rng', [1, 2, 4, 7])
def test_label_pyramid_pyr_pos(pyr_rng):
    """Levels counted from the coarsest (j = 0..5) are blurred when 6 - j < pyr_rng; the blurred
    level feeds the next nearest halving; the full-resolution one is blurred last."""
    torch.manual_seed(0)
    seg = (torch.rand(1, 2, 64, 64) > 0.5).float()
    pyr = label_pyramid(seg, _opt(position=True, pyr_pos=True, pyr_rng=pyr_rng, no_instance=False))
    expected, level = [seg], seg
    for i in range(1, 6):
        level = level[:, :, ::2, ::2]  # nearest halving
        if 6 - (5 - i) < pyr_rng:
            level = _prior(level)  # every channel, instance edges included
        expected.append(level)
    if pyr_rng > 1:
        expected[0] = _prior(seg)
    for ours, theirs in zip(pyr, expected):
        torch.testing.assert_close(ours, theirs)
    if pyr_rng == 4:  # fine levels 0, 1, 2 blurred (what the celeba fixture pins down)
        assert not torch.equal(pyr[2], pyr[1][:, :, ::2, ::2])
        assert torch.equal(pyr[3], pyr[2][:, :, ::2, ::2])
