"""The kernels' work buffers are new uninitialised tensors: results must not read an element the
code did not write. Under deterministic mode torch fills every new uninitialised tensor with NaN,
so such a read shows in the result."""
import pytest
import torch
import torch.nn.functional as F

from semsyn.kernels import conv3x3
from semsyn.kernels.depthwise import _channel_chunks, predicted_depthwise_conv
from semsyn.kernels.winograd import winograd_conv3x3, winograd_weight_grad3x3

from .test_depthwise import pixel_depthwise_conv_unfold


@pytest.fixture(autouse=True)
def nan_filled_empty():
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    assert torch.utils.deterministic.fill_uninitialized_memory
    assert torch.empty(1, dtype=torch.float64).isnan().all()
    yield
    torch.use_deterministic_algorithms(before)


@pytest.mark.parametrize('tile', [2, 4])
def test_winograd_reads_only_what_it_wrote(tile):
    g = torch.Generator().manual_seed(0)
    big = torch.randn(2, 12, 19, 23, generator=g, dtype=torch.float64)
    w = torch.randn(10, 12, 3, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(winograd_conv3x3(big, w, tile=tile), F.conv2d(big, w, padding=1), rtol=0, atol=1e-11)
    x = torch.randn(1, 5, 9, 6, generator=g, dtype=torch.float64)
    w = torch.randn(7, 5, 3, 3, generator=g, dtype=torch.float64)
    b = torch.randn(7, generator=g, dtype=torch.float64)
    out = torch.full((1, 7, 9, 6), float('nan'), dtype=torch.float64)
    assert winograd_conv3x3(x, w, b, tile=tile, out=out) is out
    torch.testing.assert_close(out, F.conv2d(x, w, b, padding=1), rtol=0, atol=1e-12)


@pytest.mark.parametrize('weight_grad_by_winograd', [False, True])
@pytest.mark.parametrize('n, c', [(1, 5), (2, 6)])
def test_predicted_depthwise_conv_by_winograd_reads_only_what_it_wrote(monkeypatch, n, c, weight_grad_by_winograd):
    """Kernels by Winograd in forward and backward (gates forced open), channel chunks (5 channels
    in 4 chunks: a short last one; batch 2: strided chunks); hidden's input tiles are transformed
    once per pass, for all the chunks' kernels and, with its gate open, their weight gradients."""
    import semsyn.kernels.winograd as winograd
    monkeypatch.setattr(winograd, 'WINOGRAD_MIN_PIXELS', 1)
    monkeypatch.setattr(winograd, 'WINOGRAD_MIN_MACS', 1)
    if weight_grad_by_winograd:
        monkeypatch.setattr(winograd, 'WEIGHT_GRAD_MIN_IN', 1)
    calls, shared = [], []
    real, real_tiles = winograd.winograd_conv3x3, winograd.input_tiles
    monkeypatch.setattr(winograd, 'winograd_conv3x3', lambda *a, **k: calls.append(k.get('tiles')) or real(*a, **k))
    monkeypatch.setattr(winograd, 'input_tiles', lambda *a, **k: shared.append(1) or real_tiles(*a, **k))
    real_wg, real_backward = winograd.winograd_weight_grad3x3, winograd.winograd_conv3x3_backward
    monkeypatch.setattr(winograd, 'winograd_weight_grad3x3',
                        lambda *a, **k: calls.append(('weight', k.get('tiles'))) or real_wg(*a, **k))
    monkeypatch.setattr(winograd, 'winograd_conv3x3_backward',
                        lambda *a, **k: calls.append(('shared', k.get('tiles'))) or real_backward(*a, **k))
    g = torch.Generator().manual_seed(3)
    x = torch.randn(n, c, 11, 9, generator=g, dtype=torch.float64, requires_grad=True)
    hidden = torch.randn(n, 4, 11, 9, generator=g, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(c * 9, 4, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(c * 9, generator=g, dtype=torch.float64, requires_grad=True)
    leaves = [x, hidden, weight, bias]
    copies = [t.detach().clone().requires_grad_() for t in leaves]
    ours = predicted_depthwise_conv(x, hidden, weight, bias)
    grad = torch.randn(ours.shape, generator=g, dtype=torch.float64)
    ours.backward(grad)
    assert shared == [1, 1]                                   # hidden transformed once per pass
    kernel_calls = [t for t in calls if not isinstance(t, tuple)]
    weight_calls = [t for t in calls if isinstance(t, tuple)]
    chunks = len(_channel_chunks(c))                          # 3 here
    if weight_grad_by_winograd:  # the weight and hidden gradients from one transform of the kernels' gradient
        assert len(kernel_calls) == 2 * chunks                # kernels, their recomputation
        assert [t[0] for t in weight_calls] == ['shared']        # one call, the chunks as its groups
    else:
        assert len(kernel_calls) == 3 * chunks                # kernels, their recomputation, grad_hidden
        assert weight_calls == []
    assert sum(t is not None for t in kernel_calls) == 2 * chunks  # the kernels from the shared tiles
    assert all(t[1] is not None for t in weight_calls)
    ref = pixel_depthwise_conv_unfold(copies[0], F.conv2d(copies[1], copies[2], copies[3], padding=1))
    ref.backward(grad)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-10)
    for a, r in zip(leaves, copies):
        torch.testing.assert_close(a.grad, r.grad, rtol=0, atol=1e-10)


def test_conv3x3_weight_grad_with_padded_input_given():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(2, 3, 7, 8, generator=g, dtype=torch.float64)
    weight = torch.randn(4, 3, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    grad_out = torch.randn(2, 4, 7, 8, generator=g, dtype=torch.float64)
    ref = torch.autograd.grad(F.conv2d(x, weight, padding=1), weight, grad_out)[0]
    gw, _ = conv3x3.conv3x3_weight_grad(grad_out, x, weight.detach(), False, x_padded=F.pad(x, (1, 1, 1, 1)))
    torch.testing.assert_close(gw, ref, rtol=1e-12, atol=1e-12)
    gw, _ = conv3x3.conv3x3_weight_grad(grad_out, x, weight.detach(), False)
    torch.testing.assert_close(gw, ref, rtol=1e-12, atol=1e-12)


def test_winograd_weight_grad_reads_only_what_it_wrote():
    """The spare tile of the last row reads one tile past its block's transform: a NaN there must
    not reach the weight gradient (its output gradient is zero, but 0 * NaN is NaN)."""
    g = torch.Generator().manual_seed(6)
    x = torch.randn(2, 3, 7, 9, generator=g, dtype=torch.float64)
    weight = torch.randn(4, 3, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    grad_out = torch.randn(2, 4, 7, 9, generator=g, dtype=torch.float64)
    ref = torch.autograd.grad(F.conv2d(x, weight, padding=1), weight, grad_out)[0]
    for max_bytes in (16 * 8 * 6 * 4, 10**9):                    # blocks of one tile row; one block
        torch.testing.assert_close(winograd_weight_grad3x3(grad_out, x, max_chunk_bytes=max_bytes), ref,
                                   rtol=1e-12, atol=1e-12)
