"""conv2d_same (ops/conv3x3.py): the same values and gradients as F.conv2d by whichever algorithm it
picks; the training Winograd runs where its gate says, and only there."""
import pytest
import torch
import torch.nn.functional as F

import semsyn.kernels.winograd as winograd
from semsyn.kernels import conv3x3
from semsyn.kernels.conv3x3 import conv2d_same
from semsyn.paths import reference_path


@pytest.fixture
def winograd_calls(monkeypatch):
    """The tiles of every Winograd convolution; ('backward', tile) for every shared backward."""
    tiles = []
    real, real_backward = winograd.winograd_conv3x3, winograd.winograd_conv3x3_backward
    monkeypatch.setattr(winograd, 'winograd_conv3x3', lambda *a, **k: tiles.append(k.get('tile', 4)) or real(*a, **k))
    monkeypatch.setattr(winograd, 'winograd_conv3x3_backward',
                        lambda *a, **k: tiles.append(('backward', k.get('tile', 2))) or real_backward(*a, **k))
    return tiles


@pytest.fixture
def small_gates(monkeypatch):
    """The training gate opened for small test layers."""
    monkeypatch.setattr(winograd, 'TRAIN_MIN_PIXELS', 1)
    monkeypatch.setattr(winograd, 'TRAIN_MIN_IN', 4)
    monkeypatch.setattr(winograd, 'TRAIN_MIN_OUT', 4)


def _leaves(n, cin, cout, h, w, dtype, bias=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, cin, h, w, generator=g, dtype=dtype)
    weight = torch.randn(cout, cin, 3, 3, generator=g, dtype=dtype) / (9 * cin) ** 0.5
    b = torch.randn(cout, generator=g, dtype=dtype) if bias else None
    return [t.requires_grad_() for t in (x, weight, b) if t is not None]


def _grads(fn, leaves, grad_out):
    copies = [t.detach().clone().requires_grad_() for t in leaves]
    out = fn(*copies)
    out.backward(grad_out)
    return out.detach(), [t.grad for t in copies]


@pytest.mark.parametrize('shape', [(1, 6, 5, 9, 7), (2, 4, 8, 5, 6), (3, 7, 4, 1, 1)])
@pytest.mark.parametrize('bias', [True, False])
def test_training_winograd_values_and_gradients(small_gates, winograd_calls, training_tile, shape, bias):
    leaves = _leaves(*shape, torch.float64, bias=bias, seed=sum(shape))
    grad_out = torch.randn((shape[0], shape[2]) + shape[3:], dtype=torch.float64)
    ours, ours_grads = _grads(conv2d_same, leaves, grad_out)
    # forward, then input gradient or both gradients from one transform where C_out >= 2 C_in
    m = training_tile
    assert winograd_calls == ([m, ('backward', m)] if shape[2] >= 2 * shape[1] else [m, m])
    ref, ref_grads = _grads(lambda x, w, b=None: F.conv2d(x, w, b, padding=1), leaves, grad_out)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)
    for a, r in zip(ours_grads, ref_grads):
        torch.testing.assert_close(a, r, rtol=0, atol=1e-11)


@pytest.mark.parametrize('cout, shared', [(96, False), (160, True)])
def test_training_winograd_float32_gradients_within_1e5(small_gates, winograd_calls, training_tile, cout, shared):
    leaves = _leaves(2, 64, cout, 24, 20, torch.float32, seed=3)
    grad_out = torch.randn(2, cout, 24, 20)
    ours, ours_grads = _grads(conv2d_same, leaves, grad_out)
    exact, exact_grads = _grads(lambda x, w, b: F.conv2d(x, w, b, padding=1),
                                [t.detach().double() for t in leaves], grad_out.double())
    m = training_tile
    assert winograd_calls == ([m, ('backward', m)] if shared else [m, m])
    assert ((ours.double() - exact).abs().max() / exact.abs().max()) < 1e-5
    for a, r in zip(ours_grads, exact_grads):
        assert ((a.double() - r).abs().max() / r.abs().max()) < 1e-5


def test_only_the_needed_gradients(small_gates, winograd_calls):
    x, weight, b = _leaves(1, 4, 6, 5, 5, torch.float64)
    out = conv2d_same(x.detach(), weight, b)
    gw, gb = torch.autograd.grad(out.sum(), [weight, b])
    assert winograd_calls == [2]  # no input gradient: no second Winograd
    torch.testing.assert_close(gb, torch.full_like(gb, 25.0))
    ref = torch.autograd.grad(F.conv2d(x.detach(), weight, b, padding=1).sum(), weight)[0]
    torch.testing.assert_close(gw, ref, rtol=0, atol=1e-12)


def test_gate(winograd_calls):
    """Wide layers on enough pixels train by Winograd; narrow ones, small maps, the reference path and
    autocast do not; without a gradient the inference gate decides."""
    def runs(n, cin, cout, hw, grad=True, **kw):
        winograd_calls.clear()
        x = torch.zeros(n, cin, hw, hw, requires_grad=grad)
        w = torch.zeros(cout, cin, 3, 3, requires_grad=grad)
        conv2d_same(x, w, **kw)
        return winograd_calls[:]
    assert runs(1, 64, 256, 32) == [2]
    assert runs(1, 64, 256, 64) == [3]                  # F(3x3) from 64x64 pixels per image
    assert runs(4, 64, 256, 32) == [2]
    assert runs(4, 64, 256, 16) == [2]                  # pixels counted over the batch
    assert runs(1, 64, 256, 16) == []
    assert runs(1, 32, 256, 64) == []
    assert runs(1, 64, 192, 64) == []
    assert runs(1, 64, 96, 64, grad=False) == [4]       # inference: winograd_pays, F(4x4)
    with reference_path():
        assert runs(1, 64, 256, 32) == []
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert runs(1, 64, 256, 32) == []
        assert runs(1, 64, 96, 64, grad=False) == []


@pytest.mark.parametrize('grad', [False, True])
def test_autocast_gives_the_reference_convolution(grad):
    """Under CPU autocast (--amp bf16: a D step's no-grad fake, a G step) conv2d_same is aten's
    convolution in bfloat16, as the reference path's; Winograd's float32 products would not mix."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 128, 64, 64, generator=g, requires_grad=grad)
    w = torch.randn(256, 128, 3, 3, generator=g, requires_grad=grad)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert not winograd.winograd_weight_grad_pays(x)
        out = conv2d_same(x, w)
        with reference_path():
            ref = F.conv2d(x, w, padding=1)
    assert out.dtype == torch.bfloat16 and torch.equal(out, ref)


@pytest.mark.parametrize('block_bytes', [None, 5 * 9 * 7 * 8 * 2])  # default; blocks of 2 rows (last one partial)
@pytest.mark.parametrize('with_bias', [True, False])
def test_conv3x3_weight_grad_is_the_convolution_weight_gradient(block_bytes, with_bias, monkeypatch):
    if block_bytes is not None:
        monkeypatch.setattr(conv3x3, 'UNFOLD_BLOCK_BYTES', block_bytes)
    torch.manual_seed(4)
    x = torch.randn(2, 5, 9, 7, dtype=torch.float64)
    weight = torch.randn(6, 5, 3, 3, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(6, dtype=torch.float64, requires_grad=True)
    grad_out = torch.randn(2, 6, 9, 7, dtype=torch.float64)
    ref = torch.autograd.grad(F.conv2d(x, weight, bias, padding=1), [weight, bias], grad_out)
    gw, gb = conv3x3.conv3x3_weight_grad(grad_out, x, weight.detach(), with_bias)
    torch.testing.assert_close(gw, ref[0], rtol=1e-12, atol=1e-12)
    if with_bias:
        torch.testing.assert_close(gb, ref[1], rtol=1e-12, atol=1e-12)
    else:
        assert gb is None


def test_weight_gradient_by_winograd_where_it_pays(monkeypatch):
    """conv3x3_weight_grad runs F(2x2) Winograd from C_in 64 on (fast paths, CPU), the GEMMs below
    and on the reference path; the same gradient either way."""
    calls = []
    real = winograd.winograd_weight_grad3x3
    monkeypatch.setattr(winograd, 'winograd_weight_grad3x3',
                        lambda *a, **k: calls.append(k.get('tile')) or real(*a, **k))

    def weight_grad(cin):
        calls.clear()
        g = torch.Generator().manual_seed(cin)
        x = torch.randn(2, cin, 6, 7, generator=g, dtype=torch.float64)
        weight = torch.randn(5, cin, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
        grad_out = torch.randn(2, 5, 6, 7, generator=g, dtype=torch.float64)
        ref = torch.autograd.grad(F.conv2d(x, weight, padding=1), weight, grad_out)[0]
        gw, gb = conv3x3.conv3x3_weight_grad(grad_out, x, weight.detach(), True)
        torch.testing.assert_close(gw, ref, rtol=0, atol=1e-11)
        torch.testing.assert_close(gb, grad_out.sum((0, 2, 3)), rtol=0, atol=1e-12)
        return calls[:]
    assert weight_grad(64) == [2]
    assert weight_grad(63) == []
    assert conv3x3.weight_grad_padding(torch.zeros(1, 64, 4, 4)) is None      # Winograd pads nothing
    assert conv3x3.weight_grad_padding(torch.zeros(1, 63, 4, 4)).shape == (1, 63, 6, 6)
    with reference_path():
        assert weight_grad(64) == []
