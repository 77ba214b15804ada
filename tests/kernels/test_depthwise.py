"""The memory-lean per-pixel depthwise conv equals the unfold version (values and gradients)."""
import pytest
import torch

import semsyn.kernels.winograd as winograd
from semsyn.kernels import depthwise
from semsyn.kernels.depthwise import pixel_depthwise_conv, predicted_depthwise_conv
from semsyn.models.generators.ccfpse import DepthConv


def pixel_depthwise_conv_unfold(x, kernels):
    """The reference: CC-FPSE's DepthConv.forward (unfold, multiply, sum)."""
    return DepthConv(x.shape[1]).forward(x, kernels)


@pytest.mark.parametrize('shape', [(1, 1, 1, 1), (2, 3, 5, 7), (3, 4, 8, 8), (2, 5, 9, 4), (4, 2, 16, 3)])
def test_matches_unfold_values_and_gradients(shape):
    torch.manual_seed(sum(shape))
    n, c, h, w = shape
    x = torch.randn(shape, requires_grad=True)
    k = torch.randn(n, c * 9, h, w, requires_grad=True)
    x2, k2 = x.detach().clone().requires_grad_(), k.detach().clone().requires_grad_()
    ours = pixel_depthwise_conv(x, k)
    ref = pixel_depthwise_conv_unfold(x2, k2)
    assert torch.allclose(ours, ref, atol=1e-5, rtol=0)
    g = torch.randn_like(ours)
    ours.backward(g)
    ref.backward(g)
    assert torch.allclose(x.grad, x2.grad, atol=1e-5, rtol=0)
    assert torch.allclose(k.grad, k2.grad, atol=1e-5, rtol=0)


def test_gradcheck_float64():
    x = torch.randn(2, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, 18, 4, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(pixel_depthwise_conv, (x, k))


def test_layout_is_channel_major_taps_row_major():
    """Only tap (0, 2) of channel 1 is set: the output is the input shifted from the up-right neighbour."""
    x = torch.arange(2 * 4 * 4, dtype=torch.float32).view(1, 2, 4, 4)
    k = torch.zeros(1, 18, 4, 4)
    k[0, 9 + 2] = 1.0  # channel 1, row 0, column 2
    out = pixel_depthwise_conv(x, k)
    assert out[0, 0].abs().sum() == 0
    expect = torch.zeros(4, 4)
    expect[1:, :3] = x[0, 1, :3, 1:]
    assert torch.equal(out[0, 1], expect)


def test_saves_no_unfolded_copy():
    """What autograd keeps for backward is the input and the kernels, nothing of size 9 x input."""
    x = torch.randn(1, 4, 8, 8, requires_grad=True)
    k = torch.randn(1, 36, 8, 8, requires_grad=True)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel()) or t, lambda t: t):
        pixel_depthwise_conv(x * 1, k * 1)
    assert sorted(saved) == [x.numel(), k.numel()]


def test_wrong_kernel_shape():
    with pytest.raises(ValueError, match='kernels must have 18 channels'):
        pixel_depthwise_conv(torch.zeros(1, 2, 3, 3), torch.zeros(1, 9, 3, 3))
    with pytest.raises(ValueError, match='kernels must have shape'):
        pixel_depthwise_conv(torch.zeros(1, 1, 3, 3), torch.zeros(1, 9, 3, 4))


@pytest.mark.parametrize('shape,bias', [((2, 3, 5, 7), True), ((1, 2, 6, 6), False), ((3, 1, 4, 9), True)])
@pytest.mark.parametrize('hidden_nc', [5, 64])  # 64: the weight and hidden gradients from shared Winograd tiles
@pytest.mark.parametrize('keep', [False, True])   # kernels recomputed in backward / kept from forward
@pytest.mark.parametrize('row_blocks', [False, True])  # the shared gradients by blocks of one tile row
def test_predicted_kernels_recomputed_or_kept_match_unfold(shape, bias, hidden_nc, keep, row_blocks, training_tile,
                                                           monkeypatch):
    shared = []
    real = winograd.winograd_conv3x3_backward
    budget = {'max_chunk_bytes': 1} if row_blocks else {}
    monkeypatch.setattr(winograd, 'winograd_conv3x3_backward',
                        lambda *a, **k: shared.append(k['group']) or real(*a, **k, **budget))
    torch.manual_seed(7)
    n, c, h, w = shape
    x = torch.randn(shape, requires_grad=True)
    hidden = torch.randn(n, hidden_nc, h, w, requires_grad=True)
    weight = (torch.randn(c * 9, hidden_nc, 3, 3) / hidden_nc ** 0.5).requires_grad_()
    b = torch.randn(c * 9, requires_grad=True) if bias else None
    leaves = [x, hidden, weight] + ([b] if bias else [])
    copies = [t.detach().clone().requires_grad_() for t in leaves]
    ours = predicted_depthwise_conv(x, hidden, weight, b, keep=keep)
    kernels = torch.nn.functional.conv2d(copies[1], copies[2], copies[3] if bias else None, padding=1)
    ref = pixel_depthwise_conv_unfold(copies[0], kernels)
    assert torch.allclose(ours, ref, atol=1e-5, rtol=0)
    g = torch.randn_like(ours)
    ours.backward(g)
    ref.backward(g)
    for a, r in zip(leaves, copies):  # within 1e-5 of each gradient's largest entry (F(3x3): about 1e-6)
        assert (a.grad - r.grad).abs().max() <= 1e-5 * r.grad.abs().max()
    # one call for all channel chunks, grouped by chunk (hidden's gradient transformed back once)
    chunk = depthwise._channel_chunks(c)[0][1]
    assert shared == ([] if hidden_nc < winograd.WEIGHT_GRAD_MIN_IN else [chunk.stop - chunk.start])


def test_kept_kernels_are_not_recomputed_and_a_second_backward_recomputes_them(monkeypatch):
    computed = []
    real = depthwise._chunk_kernels
    monkeypatch.setattr(depthwise, '_chunk_kernels',
                        lambda *a, **k: computed.append(1) or real(*a, **k))
    torch.manual_seed(3)
    x = torch.randn(2, 6, 7, 5, dtype=torch.float64, requires_grad=True)
    hidden = torch.randn(2, 4, 7, 5, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(54, 4, 3, 3, dtype=torch.float64, requires_grad=True)
    out = predicted_depthwise_conv(x, hidden, weight, None, keep=True)
    chunks = len(depthwise._channel_chunks(6))
    assert len(computed) == chunks and len(out.grad_fn.kept) == chunks  # each chunk's kernels kept
    g = torch.randn_like(out)
    first = torch.autograd.grad(out, [x, hidden, weight], g, retain_graph=True)
    assert len(computed) == chunks                     # backward used the kept kernels
    second = torch.autograd.grad(out, [x, hidden, weight], g)
    assert len(computed) == 2 * chunks                 # freed by the first backward: recomputed
    for a, b in zip(first, second):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    out = predicted_depthwise_conv(x.detach(), hidden, weight, None, keep=True)
    assert out.grad_fn.kept == []                      # no input gradient wanted: nothing kept


def test_predicted_saves_input_and_hidden_only():
    x = torch.randn(1, 4, 8, 8, requires_grad=True)
    hidden = torch.randn(1, 3, 8, 8, requires_grad=True)
    weight = torch.randn(36, 3, 3, 3, requires_grad=True)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel()) or t, lambda t: t):
        predicted_depthwise_conv(x * 1, hidden * 1, weight, None)
    assert sum(saved) == x.numel() + hidden.numel() + weight.numel()
