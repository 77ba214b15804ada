"""Winograd 3x3 convolution equals F.conv2d(padding=1), and its weight gradient conv2d's: any size,
batch, dtype, bias, chunking."""
import pytest
import torch
import torch.nn.functional as F

from semsyn.kernels import winograd
from semsyn.kernels.winograd import input_tiles, winograd_conv3x3, winograd_conv3x3_backward, winograd_weight_grad3x3


def _case(n, cin, cout, h, w, bias, seed=0):
    """float64 input, weight like a trained layer's (std 1/sqrt(9 C_in)), optional bias."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, cin, h, w, generator=g, dtype=torch.float64)
    weight = torch.randn(cout, cin, 3, 3, generator=g, dtype=torch.float64) / (9 * cin) ** 0.5
    b = torch.randn(cout, generator=g, dtype=torch.float64) if bias else None
    return x, weight, b


def _rel_err(x, weight, b, dtype, **kwargs):
    ref = F.conv2d(x, weight, b, padding=1)
    out = winograd_conv3x3(x.to(dtype), weight.to(dtype), None if b is None else b.to(dtype), **kwargs)
    assert out.shape == ref.shape and out.dtype == dtype and out.is_contiguous()
    return ((out.double() - ref).abs().max() / ref.abs().max()).item()


SHAPES = [(1, 3, 4, 1, 1), (3, 5, 7, 5, 7), (1, 8, 16, 13, 13), (3, 16, 8, 7, 12), (1, 64, 24, 16, 16),
          (1, 32, 48, 9, 20), (3, 3, 5, 4, 6), (1, 4, 3, 2, 9)]


@pytest.mark.parametrize('tile', [4, 3, 2])
@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('bias', [True, False])
def test_matches_conv2d(shape, bias, tile):
    x, weight, b = _case(*shape, bias=bias, seed=sum(shape))
    assert _rel_err(x, weight, b, torch.float32, tile=tile) < 2e-5
    assert _rel_err(x, weight, b, torch.float64, tile=tile) < 1e-12


@pytest.mark.parametrize('tile', [4, 3, 2])
@pytest.mark.parametrize('shape', [(3, 6, 10, 13, 11), (2, 5, 9, 8, 8), (1, 4, 7, 17, 5)])
def test_chunks(shape, tile):
    """Tiny max_chunk_bytes: many channel and tile-row chunks (down to one row of one channel)."""
    x, weight, b = _case(*shape, bias=True, seed=1)
    ref = F.conv2d(x, weight, b, padding=1)
    for max_bytes in (1, 36 * 8 * 12, 36 * 8 * 40, 36 * 8 * 200):
        out = winograd_conv3x3(x, weight, b, max_chunk_bytes=max_bytes, tile=tile)
        assert (out - ref).abs().max() < 1e-12


def test_default_tile_and_accuracy_at_256_channels():
    x, weight, b = _case(1, 256, 8, 24, 24, bias=True, seed=3)
    assert _rel_err(x, weight, b, torch.float32) < 2e-5
    assert _rel_err(x, weight, b, torch.float32, tile=3) < 5e-6  # training's F(3x3) on large maps
    assert _rel_err(x, weight, b, torch.float32, tile=2) < 2e-6


def test_winograd_out_must_fit():
    x, w = torch.zeros(1, 2, 4, 4), torch.zeros(3, 2, 3, 3)
    with pytest.raises(ValueError, match='out must be a contiguous torch.float32 tensor of shape'):
        winograd_conv3x3(x, w, out=torch.zeros(1, 3, 4, 5))
    with pytest.raises(ValueError, match='out must be'):
        winograd_conv3x3(x, w, out=torch.zeros(1, 4, 4, 3).transpose(1, 3))


def test_empty_batch():
    out = winograd_conv3x3(torch.zeros(0, 3, 5, 5), torch.zeros(2, 3, 3, 3))
    assert out.shape == (0, 2, 5, 5)


def test_non_contiguous_input_and_no_grad():
    x, weight, b = _case(2, 6, 5, 10, 9, bias=True, seed=4)
    x32 = x.float().permute(0, 1, 3, 2).contiguous().permute(0, 1, 3, 2)  # same values, other strides
    w32 = weight.float().requires_grad_()
    out = winograd_conv3x3(x32, w32, b.float())
    assert not out.requires_grad
    assert torch.allclose(out.double(), F.conv2d(x, weight, b, padding=1), atol=2e-5, rtol=0)


def test_errors():
    x = torch.zeros(1, 4, 5, 5)
    with pytest.raises(ValueError, match=r'weight must be \[C_out, C_in, 3, 3\]'):
        winograd_conv3x3(x, torch.zeros(2, 4, 5, 5))
    with pytest.raises(ValueError, match=r'weight must be \[C_out, C_in, 3, 3\]'):
        winograd_conv3x3(x, torch.zeros(2, 4, 3))
    with pytest.raises(ValueError, match=r'input must be \[N, C_in, H, W\]'):
        winograd_conv3x3(torch.zeros(4, 5, 5), torch.zeros(2, 4, 3, 3))
    with pytest.raises(ValueError, match='has C_in 4 but weight'):
        winograd_conv3x3(x, torch.zeros(2, 3, 3, 3))
    with pytest.raises(ValueError, match=r'bias must be \[C_out\]'):
        winograd_conv3x3(x, torch.zeros(2, 4, 3, 3), torch.zeros(3))
    with pytest.raises(ValueError, match=r'tile must be one of \[2, 3, 4\]'):
        winograd_conv3x3(x, torch.zeros(2, 4, 3, 3), tile=5)


def _weight_grad_case(n, cin, cout, h, w, seed):
    """(x, grad_out, conv2d's weight gradient), float64."""
    x, weight, _ = _case(n, cin, cout, h, w, bias=False, seed=seed)
    grad_out = torch.randn(n, cout, h, w, generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64)
    ref = torch.autograd.grad(F.conv2d(x, weight.requires_grad_(), padding=1), weight, grad_out)[0]
    return x, grad_out, ref


def _weight_grad_err(x, grad_out, ref, dtype, **kwargs):
    ours = winograd_weight_grad3x3(grad_out.to(dtype), x.to(dtype), **kwargs)
    assert ours.shape == ref.shape and ours.dtype == dtype
    return ((ours.double() - ref).abs().max() / ref.abs().max()).item()


@pytest.mark.parametrize('tile', [2, 3, 4])
@pytest.mark.parametrize('shape', SHAPES)
def test_weight_grad_matches_conv2d(shape, tile):
    """Odd and tiny sizes too: the cropped tiles and the spare tile of each row take no gradient."""
    x, grad_out, ref = _weight_grad_case(*shape, seed=sum(shape))
    assert _weight_grad_err(x, grad_out, ref, torch.float64, tile=tile) < 1e-12
    assert _weight_grad_err(x, grad_out, ref, torch.float32, tile=tile) < {2: 2e-6, 3: 5e-6, 4: 2e-5}[tile]


@pytest.mark.parametrize('shape', [(3, 6, 10, 13, 11), (2, 5, 9, 8, 8), (1, 4, 7, 17, 5)])
def test_weight_grad_blocks_and_strided_gradient(shape):
    """Tiny max_chunk_bytes: blocks of one tile row of one image up to several images; a
    non-contiguous output gradient."""
    x, grad_out, ref = _weight_grad_case(*shape, seed=2)
    strided = grad_out.transpose(2, 3).contiguous().transpose(2, 3)
    for max_bytes in (1, 16 * 8 * 10 * 8, 16 * 8 * 10 * 40, 10**9):
        for g in (grad_out, strided):
            assert (winograd_weight_grad3x3(g, x, max_chunk_bytes=max_bytes) - ref).abs().max() < 1e-12


def test_weight_grad_float32_accuracy_at_128_channels():
    """F(2x2): as accurate as the direct sum (about 5e-7 here); F(4x4) would be ten times worse."""
    x, grad_out, ref = _weight_grad_case(2, 128, 96, 24, 20, seed=7)
    assert _weight_grad_err(x, grad_out, ref, torch.float32) < 2e-6


def test_weight_grad_empty_and_errors():
    assert winograd_weight_grad3x3(torch.zeros(0, 2, 5, 5), torch.zeros(0, 3, 5, 5)).equal(torch.zeros(2, 3, 3, 3))
    with pytest.raises(ValueError, match=r'grad_out \(1, 2, 5, 4\) does not match input \(1, 3, 5, 5\)'):
        winograd_weight_grad3x3(torch.zeros(1, 2, 5, 4), torch.zeros(1, 3, 5, 5))
    with pytest.raises(ValueError, match=r'tile must be one of \[2, 3, 4\]'):
        winograd_weight_grad3x3(torch.zeros(1, 2, 5, 5), torch.zeros(1, 3, 5, 5), tile=5)


@pytest.mark.parametrize('tile', [2, 3, 4])
@pytest.mark.parametrize('shape', [(3, 6, 10, 13, 11), (2, 5, 9, 8, 8), (1, 4, 7, 1, 1)])
def test_shared_input_tiles(shape, tile):
    """input_tiles(x) once, then convolutions and weight gradients from it: the same results as each
    transforming x itself, whatever blocks either goes by."""
    x, weight, b = _case(*shape, bias=True, seed=5)
    _, grad_out, ref_grad = _weight_grad_case(*shape, seed=5)
    ref = F.conv2d(x, weight, b, padding=1)
    for tiles_bytes in (1, 10**9):
        tiles = input_tiles(x, tile, max_chunk_bytes=tiles_bytes).clone()
        for max_bytes in (1, 36 * 8 * 40, 10**9):
            out = winograd_conv3x3(x, weight, b, max_chunk_bytes=max_bytes, tile=tile, tiles=tiles)
            assert (out - ref).abs().max() < 1e-12
            gw = winograd_weight_grad3x3(grad_out, x, tile=tile, max_chunk_bytes=max_bytes, tiles=tiles)
            assert (gw - ref_grad).abs().max() < 1e-12


def test_shared_input_tiles_errors():
    x = torch.zeros(1, 4, 6, 6)
    with pytest.raises(ValueError, match=r'tiles must be input_tiles\(x, tile=2\) of shape \(16, 4, 12\)'):
        winograd_conv3x3(x, torch.zeros(2, 4, 3, 3), tile=2, tiles=input_tiles(x, 4))
    with pytest.raises(ValueError, match='winograd_weight_grad3x3: tiles must be'):
        winograd_weight_grad3x3(torch.zeros(1, 2, 6, 6), x, tiles=input_tiles(x[:, :3], 2))
    with pytest.raises(ValueError, match=r'input_tiles: tile must be one of \[2, 3, 4\]'):
        input_tiles(x, 5)


def _backward_case(n, cin, cout, h, w, seed):
    """(x, weight, grad_out, conv2d's (input, weight, bias) gradients), float64."""
    x, weight, b = _case(n, cin, cout, h, w, bias=True, seed=seed)
    grad_out = torch.randn(n, cout, h, w, generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64)
    leaves = [t.clone().requires_grad_() for t in (x, weight, b)]
    grads = torch.autograd.grad(F.conv2d(*leaves[:2], leaves[2], padding=1), leaves, grad_out)
    return x, weight, grad_out, grads


@pytest.mark.parametrize('tile', [2, 3, 4])
@pytest.mark.parametrize('shape', SHAPES)
def test_shared_backward_matches_conv2d(shape, tile):
    """Both gradients from one transform of the output gradient (the forward's adjoint), the input
    gradient added into the given tensor; odd and tiny sizes, blocks down to one tile row, the
    input's tiles shared or not."""
    x, weight, grad_out, (gx, gw, gb) = _backward_case(*shape, seed=sum(shape))
    for max_bytes in (1, 16 * 8 * 10 * 8, 10**9):
        for tiles in (None, input_tiles(x, tile).clone()):
            start = torch.randn_like(x)
            grad_x = start.clone()
            ours_w, ours_b = winograd_conv3x3_backward(x, weight, grad_out=grad_out, tiles=tiles, grad_x=grad_x,
                                                       bias_grad=True, tile=tile, max_chunk_bytes=max_bytes)
            assert (grad_x - start - gx).abs().max() < 1e-12
            assert (ours_w - gw).abs().max() < 1e-12 and (ours_b - gb).abs().max() < 1e-11


def test_shared_backward_only_what_is_asked_and_filled_tiles():
    """No weight or bias gradient unless asked; ``fill_grad_out`` gives the same as ``grad_out``."""
    x, weight, grad_out, (gx, gw, gb) = _backward_case(2, 5, 11, 9, 7, seed=3)
    grad_x = torch.zeros_like(x)
    assert winograd_conv3x3_backward(x, weight, grad_out=grad_out, grad_x=grad_x, weight_grad=False) == (None, None)
    assert (grad_x - gx).abs().max() < 1e-12
    filled = []

    def fill(dy, n0, n1, r0, r1, c0, c1):  # the output gradient's tiles, as a caller computing them would write
        dy.zero_()
        for i in range(2):
            for j in range(2):
                part = grad_out[n0:n1, c0:c1, 2 * r0 + i::2, j::2][:, :, :r1 - r0].transpose(0, 1)
                dy[i, j, :, :, :part.shape[2], :part.shape[3]] = part
        filled.append((n0, n1, r0, r1, c0, c1))
    ours_w, ours_b = winograd_conv3x3_backward(x, weight, fill_grad_out=fill, bias_grad=True, max_chunk_bytes=1)
    assert (ours_w - gw).abs().max() < 1e-12 and (ours_b - gb).abs().max() < 1e-11
    assert len(filled) == 2 * 5  # one tile row of one image per block at this budget
    assert {f[4:] for f in filled} == {(0, 11)}


@pytest.mark.parametrize('group', [1, 4, 11, 50])
def test_shared_backward_by_output_channel_groups(group):
    """``group``: each block fills and transforms the output channels group by group (dM one group's
    at a time) and sums the groups' dV before the input gradient's one transform: the same
    gradients as all channels at once."""
    x, weight, grad_out, (gx, gw, gb) = _backward_case(2, 5, 11, 9, 7, seed=4)
    calls = []
    dense = winograd._dense_filler(grad_out, 9, 7, 2)

    def fill(dy, n0, n1, r0, r1, c0, c1):
        calls.append((n0, r0, c0, c1))
        dense(dy, n0, n1, r0, r1, c0, c1)
    grad_x = torch.zeros_like(x)
    ours_w, ours_b = winograd_conv3x3_backward(x, weight, fill_grad_out=fill, grad_x=grad_x, bias_grad=True,
                                               group=group)
    assert (grad_x - gx).abs().max() < 1e-12
    assert (ours_w - gw).abs().max() < 1e-12 and (ours_b - gb).abs().max() < 1e-11
    groups = sorted({c for *_, c0, c1 in calls for c in [(c0, c1)]})
    assert groups == [(c0, min(11, c0 + group)) for c0 in range(0, 11, group)]  # groups of ``group``, the rest last
    blocks = {(n0, r0) for n0, r0, *_ in calls}
    assert len(calls) == len(blocks) * len(groups)  # every group once per block
    with pytest.raises(ValueError, match='group must be a positive channel count'):
        winograd_conv3x3_backward(x, weight, grad_out=grad_out, group=0)


def test_shared_backward_float32_accuracy():
    """F(2x2): as accurate as the direct sums (C_out 9x C_in, as CC-FPSE's kernel predictors)."""
    x, weight, grad_out, (gx, gw, gb) = _backward_case(1, 64, 576, 24, 20, seed=9)
    grad_x = torch.zeros_like(x, dtype=torch.float32)
    ours_w, ours_b = winograd_conv3x3_backward(x.float(), weight.float(), grad_out=grad_out.float(), grad_x=grad_x,
                                               bias_grad=True)
    for ours, ref in ((grad_x, gx), (ours_w, gw), (ours_b, gb)):
        assert ((ours.double() - ref).abs().max() / ref.abs().max()) < 2e-6


def test_shared_backward_errors():
    x, w = torch.zeros(1, 3, 5, 5), torch.zeros(2, 3, 3, 3)
    g = torch.zeros(1, 2, 5, 5)
    with pytest.raises(ValueError, match='exactly one of grad_out and fill_grad_out'):
        winograd_conv3x3_backward(x, w)
    with pytest.raises(ValueError, match=r'grad_out \(1, 2, 5, 4\) does not match'):
        winograd_conv3x3_backward(x, w, grad_out=torch.zeros(1, 2, 5, 4))
    with pytest.raises(ValueError, match=r'weight must be \[C_out, 3, 3, 3\]'):
        winograd_conv3x3_backward(x, torch.zeros(2, 4, 3, 3), grad_out=g)
    with pytest.raises(ValueError, match='grad_x must be contiguous'):
        winograd_conv3x3_backward(x, w, grad_out=g, grad_x=torch.zeros(1, 3, 5, 4))
    with pytest.raises(ValueError, match=r'tile must be one of \[2, 3, 4\]'):
        winograd_conv3x3_backward(x, w, grad_out=g, tile=5)
