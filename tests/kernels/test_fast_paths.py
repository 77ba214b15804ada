"""The fast paths (label lookups, fused convolutions, uniform regions, spectral norm's division)
compute what the reference path (the originals' computation) computes: values and gradients of
every parameter, per op and per generator; soft label maps fall back to the reference."""
import copy

import pytest
import torch
import torch.nn.functional as F

import semsyn.kernels.label_conv as label_conv_module
import semsyn.kernels.scgan as scgan_kernels
import semsyn.kernels.spade_fast as spade_fast
from semsyn.kernels.label_conv import label_conv
from semsyn.kernels.label_map import LabelMap, generator_labels
from semsyn.kernels.modulation import modulate
from semsyn.kernels.patch_conv import patch_conv
from semsyn.kernels.scatter import ScatterAdd
from semsyn.models import create_network
from semsyn.models.dispatch import forward_context
from semsyn.models.ops import SPADE, spectral_norm
from semsyn.paths import fast_paths, fast_paths_enabled, reference_path

F64 = torch.float64


def blocky_labels(n, classes, size, block, seed=0):
    """[n, 1, size, size] labels constant on block x block squares: uniform regions and borders."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randint(0, classes, (n, 1, size // block, size // block), generator=g)
    return coarse.repeat_interleave(block, 2).repeat_interleave(block, 3)


def one_hot(labels, classes, edges=False, dtype=torch.float32):
    out = torch.zeros(labels.shape[0], classes, *labels.shape[2:], dtype=dtype).scatter_(1, labels, 1.0)
    if edges:  # an instance-edge-like channel: 0/1, not one-hot
        g = torch.Generator().manual_seed(5)
        out = torch.cat([out, (torch.rand(labels.shape, generator=g) > 0.9).to(dtype)], dim=1)
    return out


def rel(a, b):
    return float((a - b).norm() / b.norm().clamp_min(1e-30))


# -- the switch and the label map ---------------------------------------------------------------
def test_reference_path_switch_nests_and_restores():
    assert fast_paths_enabled()
    with reference_path():
        assert not fast_paths_enabled()
        with fast_paths():
            assert fast_paths_enabled()
        assert not fast_paths_enabled()
        with reference_path(False):
            assert not fast_paths_enabled()
    with reference_path(False):
        assert fast_paths_enabled()
    assert fast_paths_enabled()


def test_fast_paths_run_on_the_cpu_only_by_default():
    """Tensors on other devices (a GPU; here the meta device) take the reference computation, unless
    fast_paths(devices=...) names them; the switch alone (fused Adam) stays on."""
    cpu, elsewhere = torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4, device='meta')
    opt = small_generator('spade', False, F64).opt
    assert fast_paths_enabled() and fast_paths_enabled(cpu) and not fast_paths_enabled(elsewhere)
    assert generator_labels(elsewhere, opt) is None
    with fast_paths(devices=('cpu', 'meta')):
        assert fast_paths_enabled(elsewhere)
        with reference_path():
            assert not fast_paths_enabled(elsewhere) and not fast_paths_enabled(cpu)
        with fast_paths(devices=()):
            assert not fast_paths_enabled(cpu) and fast_paths_enabled()
    assert not fast_paths_enabled(elsewhere) and fast_paths_enabled(cpu)


def test_label_map_accepts_exact_one_hot_only():
    labels = blocky_labels(2, 5, 8, 2)
    sem = one_hot(labels, 5, edges=True)
    lm = LabelMap.of(sem, 5)
    assert torch.equal(lm.labels, labels[:, 0]) and torch.equal(lm.extra, sem[:, 5:])
    assert LabelMap.of(one_hot(labels, 5), 5).extra is None
    for dtype in (torch.float64, torch.bfloat16, torch.float16):  # the labels as a product with 0..L-1: exact
        assert torch.equal(LabelMap.of(sem.to(dtype), 5).labels, labels[:, 0])
    soft = sem.clone()
    soft[0, :5, 0, 0] = 0.2  # label smoothing at one pixel
    two = sem.clone()
    two[1, 0, 3, 3] = two[1, 1, 3, 3] = 1.0
    two[1, 2:5, 3, 3] = 0.0
    empty = sem.clone()
    empty[0, :5, 1, 1] = 0.0
    nan = sem.clone()
    nan[0, 0, 0, 0] = float('nan')
    for bad in (soft, two, empty, nan, sem * 2, sem.clone().requires_grad_()):
        assert LabelMap.of(bad, 5) is None
    # the instance-edge channel is not a label channel: generator_labels leaves it out
    opt = create_network('G', {'netG': 'spade', 'dataset_mode': 'coco', 'label_nc': 4, 'ngf': 4,
                               'crop_size': 64, 'gpu_ids': '-1'}, init=False).opt
    assert opt.semantic_nc == 6 and generator_labels(sem, opt).num_classes == 5
    with reference_path():
        assert generator_labels(sem, opt) is None


@pytest.mark.parametrize('size', [(4, 4), (3, 5), (20, 14), (8, 8)])
def test_resized_labels_are_the_resized_one_hot_map(size):
    labels = blocky_labels(2, 7, 8, 1, seed=3)
    sem = one_hot(labels, 7)
    lm = LabelMap.of(sem, 7).at(size)
    assert torch.equal(lm.labels, F.interpolate(sem, size=size, mode='nearest').argmax(1))


# -- ops ------------------------------------------------------------------------------------------
@pytest.mark.parametrize('k,stride,padding', [(3, 1, None), (5, 1, None), (1, 1, None),
                                               (4, 2, 2), (3, 2, 1), (4, 1, 2), (2, 3, 0)])
@pytest.mark.parametrize('rest_channels', [0, 1, 4])
@pytest.mark.parametrize('n', [2, 1])  # 1: the weight gradient from the channels-first gradient's rows as they come
def test_label_conv_is_the_convolution_of_the_one_hot_map(k, stride, padding, rest_channels, n):
    """Any kernel size, stride and zero padding (default k // 2); odd map sizes reach the borders."""
    torch.manual_seed(k + rest_channels)
    labels = blocky_labels(2, 6, 12, 3)[:n, :, :11, :]
    sem = one_hot(labels, 6, dtype=F64)
    rest = torch.randn(n, rest_channels, 11, 12, dtype=F64, requires_grad=True) if rest_channels else None
    weight = torch.randn(5, 6 + rest_channels, k, k, dtype=F64, requires_grad=True)
    bias = torch.randn(5, dtype=F64, requires_grad=True)
    inputs = sem if rest is None else torch.cat([sem, rest], 1)
    ref = F.conv2d(inputs, weight, bias, stride=stride, padding=k // 2 if padding is None else padding)
    out = label_conv(LabelMap.of(sem, 6), weight, bias, rest, stride=stride, padding=padding)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    leaves = [weight, bias] + ([rest] if rest is not None else [])
    g = torch.randn_like(ref)
    for a, b in zip(torch.autograd.grad(out, leaves, g), torch.autograd.grad(ref, leaves, g)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match='other channels'):
        label_conv(LabelMap.of(sem, 6), weight, bias, None if rest is not None else torch.zeros(n, 1, 11, 12))


@pytest.mark.parametrize('rest_channels', [0, 3])
@pytest.mark.parametrize('n', [1, 2])
def test_label_conv_blocks_of_pixels_cover_the_map(monkeypatch, rest_channels, n):
    """The lookups' rows go into the channels-first map block by block of pixels (copied, or added
    to the other channels' convolution); blocks of 7 pixels end inside a row and the map's last one
    is partial: values and gradients still the convolution's."""
    monkeypatch.setattr(label_conv_module, '_MIN_BLOCK_PIXELS', 7)
    monkeypatch.setattr(label_conv_module, '_BLOCK_FLOATS', 1)
    monkeypatch.setattr(label_conv_module, '_MIN_CHANNELS', 1)
    torch.manual_seed(n + rest_channels)
    labels = blocky_labels(2, 6, 12, 3)[:n, :, :11, :]
    sem = one_hot(labels, 6, dtype=F64)
    rest = torch.randn(n, rest_channels, 11, 12, dtype=F64, requires_grad=True) if rest_channels else None
    weight = torch.randn(5, 6 + rest_channels, 3, 3, dtype=F64, requires_grad=True)
    bias = torch.randn(5, dtype=F64, requires_grad=True)
    rows = label_conv_module.label_conv_rows(LabelMap.of(sem, 6), weight, image_shape=(n, 11, 12))
    assert rows.permute(0, 2, 3, 1).is_contiguous()  # the blocked copy's layout
    ref = F.conv2d(sem if rest is None else torch.cat([sem, rest], 1), weight, bias, padding=1)
    out = label_conv(LabelMap.of(sem, 6), weight, bias, rest)
    assert out.is_contiguous()
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    leaves = [weight, bias] + ([rest] if rest is not None else [])
    g = torch.randn_like(ref)
    for a, b in zip(torch.autograd.grad(out, leaves, g), torch.autograd.grad(ref, leaves, g)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_patch_conv_is_the_convolution_at_the_pixels():
    torch.manual_seed(0)
    x = torch.randn(1, 4, 5, 6, dtype=F64, requires_grad=True)
    weight = torch.randn(3, 4, 3, 3, dtype=F64, requires_grad=True)
    bias = torch.randn(3, dtype=F64, requires_grad=True)
    pixels = torch.tensor([0, 7, 8, 29])  # corner, inner, edge pixels of the 5x6 map
    rows = torch.cat([x[0].permute(1, 2, 0).reshape(30, 4), x.new_zeros(1, 4)])
    padded = F.pad(torch.arange(30).view(5, 6), (1, 1, 1, 1), value=30)
    ys, xs = pixels // 6, pixels % 6
    neighbours = torch.stack([padded[ys + i, xs + j] for i in range(3) for j in range(3)], 1)
    out = patch_conv(rows, neighbours, weight, bias, ScatterAdd(neighbours.reshape(-1), 31))
    ref = F.conv2d(x, weight, bias, padding=1)[0].permute(1, 2, 0).reshape(30, 3)[pixels]
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    g = torch.randn_like(ref)
    leaves = [x, weight, bias]
    for a, b in zip(torch.autograd.grad(out, leaves, g), torch.autograd.grad(ref, leaves, g)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_scatter_add_matches_index_add():
    torch.manual_seed(0)
    index = torch.randint(0, 9, (50, 3))
    keep = index != 4
    src = torch.randn(50, 6, dtype=F64)
    expected = torch.zeros(9, 6, dtype=F64)
    for i in range(50):
        for j in range(3):
            if keep[i, j]:
                expected[index[i, j]] += src[i]
    torch.testing.assert_close(ScatterAdd(index, 9, keep=keep)(src), expected)
    torch.testing.assert_close(ScatterAdd(index, 9, keep=keep)(src.float()), expected.float())
    transposed = src.t().contiguous().t()  # a channels-first map's rows, as label_conv's gradient comes
    assert transposed.stride() == (1, 50)
    scatter = ScatterAdd(index, 9, keep=keep)
    torch.testing.assert_close(scatter(transposed), expected)
    torch.testing.assert_close(scatter(transposed.float()), expected.float())
    torch.testing.assert_close(scatter(src[:, ::2]), expected[:, ::2])  # another strided layout


def test_scatter_of_a_channels_first_map_is_the_scatter_of_its_pixel_rows():
    """Image by image from each image's [C, H*W] gradient; other layouts and dtypes as the rows are."""
    torch.manual_seed(1)
    index = torch.randint(0, 11, (3 * 4 * 5, 2))
    scatter = ScatterAdd(index, 11, keep=index != 10)
    grad = torch.randn(3, 6, 4, 5, dtype=F64)
    expected = scatter(grad.permute(0, 2, 3, 1).reshape(-1, 6))
    torch.testing.assert_close(scatter.channels_first(grad), expected, rtol=1e-12, atol=1e-12)
    one = ScatterAdd(index[:20], 11, keep=index[:20] != 10)
    torch.testing.assert_close(one.channels_first(grad[:1]), one(grad[0].reshape(6, 20).t().contiguous()),
                               rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(scatter.channels_first(grad.float()), expected.float())
    as_bf16 = scatter.channels_first(grad.bfloat16())
    assert as_bf16.dtype == torch.bfloat16
    torch.testing.assert_close(as_bf16.double(), scatter(grad.bfloat16().double().permute(0, 2, 3, 1).reshape(-1, 6)),
                               rtol=1e-2, atol=1e-2)
    channels_last = grad.contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(scatter.channels_first(channels_last), expected, rtol=1e-12, atol=1e-12)


def test_tap_table_scatter_takes_one_label_windows_once():
    """A tap table's scatter (blocks=k*k) puts a pixel whose window holds one label into its matrix
    once and folds that sum into every tap's block: the same sums as one entry per tap."""
    torch.manual_seed(2)
    labels = torch.randint(0, 3, (2, 3, 2)).repeat_interleave(5, 1).repeat_interleave(6, 2)  # 15x12, 5x6 regions
    labels[0, 7, 8] = 3  # a lone pixel
    label_map = LabelMap(labels, None, num_classes=4)
    index, scatter = label_map.taps(3)
    assert scatter.blocks == 9
    plain = ScatterAdd(index, scatter.num_rows, keep=scatter.keep)
    one_label = int(label_map.uniform(1).sum())
    assert one_label > 40
    assert scatter._matrix(F64)._nnz() == plain._matrix(F64)._nnz() - 8 * one_label  # 9 entries -> 1
    src = torch.randn(index.shape[0], 5, dtype=F64)
    expected = plain(src)
    torch.testing.assert_close(scatter(src), expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(scatter(src.t().contiguous().t()), expected, rtol=1e-12, atol=1e-12)
    grad = src.view(2, 15, 12, 5).permute(0, 3, 1, 2).contiguous()
    torch.testing.assert_close(scatter.channels_first(grad), expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(scatter(src.float()), expected.float())
    with pytest.raises(ValueError, match='blocks=9'):
        ScatterAdd(index, 100, blocks=9)


@pytest.mark.parametrize('as_view', [False, True])
def test_modulate_writes_over_the_shift_half(as_view):
    """normalized * params[:, :C] + params[:, C:] with params' values and gradients as addcmul's, the
    result in params' own storage (no new map kept); params may be a view of another result."""
    torch.manual_seed(4)
    normalized = torch.randn(2, 3, 4, 5, dtype=F64, requires_grad=True)
    source = torch.randn(2, 6, 20, dtype=F64, requires_grad=True)
    weight = torch.randn(2, 3, 4, 5, dtype=F64)
    runs = []
    for fast in (True, False):
        params = source * 2
        params = params.view(2, 6, 4, 5) if as_view else params.reshape(2, 6, 4, 5).clone()
        if fast:
            out = modulate(normalized, params)
            assert out.untyped_storage().data_ptr() == params.untyped_storage().data_ptr()
        else:
            out = torch.addcmul(params[:, 3:], normalized, params[:, :3])
        runs.append([out.detach().clone()] + list(torch.autograd.grad((out * weight).sum(), [normalized, source])))
    for a, b in zip(*runs):
        torch.testing.assert_close(a, b, rtol=1e-14, atol=1e-14)
    mixed = modulate(normalized.float(), torch.randn(2, 6, 4, 5, dtype=torch.bfloat16))  # autocast's dtypes
    assert mixed.dtype == torch.float32
    with pytest.raises(ValueError, match='2C'):
        modulate(normalized, torch.randn(2, 5, 4, 5, dtype=F64))


@pytest.mark.parametrize('train', [True, False])
def test_spectral_norm_division_matches_torch(train):
    torch.manual_seed(0)
    conv = spectral_norm(torch.nn.Conv2d(5, 7, 3, padding=1)).double().train(train)
    x = torch.randn(2, 5, 6, 6, dtype=F64)
    results = []
    for ref in (True, False):
        c = copy.deepcopy(conv)
        with reference_path(ref):
            for _ in range(2):  # two power iterations in training mode
                y = c(x)
                y.square().sum().backward()
        results.append((y, c.weight_orig.grad, c.bias.grad, c.weight_u, c.weight_v))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


# -- SPADE -------------------------------------------------------------------------------------
@pytest.mark.parametrize('form', ['uniform', 'dense'])
@pytest.mark.parametrize('edges', [False, True])
def test_spade_norm_fast_equals_reference(form, edges, monkeypatch):
    monkeypatch.setattr(spade_fast, 'UNIFORM_BELOW', 1.01 if form == 'uniform' else 0.0)
    torch.manual_seed(0)
    labels = blocky_labels(2, 6, 32, 8)
    sem = one_hot(labels, 6, edges=edges, dtype=F64)
    norm = SPADE('spadesyncbatch3x3', 4, sem.shape[1]).double().train()
    with torch.no_grad():
        for p in norm.parameters():
            p.normal_(0, 0.3)
    x = torch.randn(2, 4, 32, 32, dtype=F64)
    runs = []
    for ref in (True, False):
        n, xi = copy.deepcopy(norm), x.clone().requires_grad_()
        with reference_path(ref), forward_context(sem, 6):
            out = n(xi, sem)
        out.backward(torch.linspace(-1, 1, out.numel(), dtype=F64).view_as(out))
        runs.append([out, xi.grad] + [p.grad for p in n.parameters()])
    for a, b in zip(*runs):
        torch.testing.assert_close(a, b, rtol=1e-11, atol=1e-12)
    if form == 'uniform':  # the uniform-region form ran, with pixels of both kinds
        geometry = spade_fast.border_geometry(LabelMap.of(sem, 6), 3)
        assert 0 < geometry['border_at'][0].numel() < 2 * 32 * 32


# -- generators --------------------------------------------------------------------------------
SMALL = {'spade': {'netG': 'spade', 'ngf': 4},
         'condconv': {'netG': 'condconv', 'ngf': 4},
         'scg': {'netG': 'scg', 'ngf': 4, 'nrf': 4, 'nff': 4, 'num_experts_conv': 3, 'num_experts_norm': 2,
                 'temperature': 0.5}}
SMALL['scg_prior'] = {**SMALL['scg'], 'position': True}  # the routing levels blurred by the position prior
# float32 comparisons: not the prior variant, whose up_3 output has a value within 1e-6 of LeakyReLU's
# kink at these weights: float32 and float64 differ there by 3e-3 on the reference path as on the fast
# path (a different slope for one pixel); float64 checks its fast path
FLOAT32_NAMES = ['condconv', 'scg', 'spade']


def small_generator(name, instance, dtype, size=32):
    opt = {'dataset_mode': 'coco' if instance else 'ade20k', 'label_nc': 6, 'crop_size': size, 'gpu_ids': '-1',
           'batchSize': 2,
           'contain_dontcare_label': True, 'no_instance': not instance, **SMALL[name]}
    torch.manual_seed(0)
    net = create_network('G', opt)
    with torch.no_grad():  # away from the zero / identity initialisations
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return net.to(dtype).train()


def run_both(net, semantics, dtype):
    """(outputs, parameter gradients, buffers) of the reference path and of the fast path, from
    copies of ``net`` (same BatchNorm statistics and spectral-norm vectors at the start)."""
    runs = []
    for ref in (True, False):
        n = copy.deepcopy(net)
        torch.manual_seed(0)  # the same z where the generator samples one (use_vae without an encoder)
        with reference_path(ref):
            out = n(semantics)
        flat = [t for o in (out if isinstance(out, tuple) else [out]) for t in (o if isinstance(o, list) else [o])]
        g = torch.Generator().manual_seed(1)
        sum((t * torch.randn(t.shape, generator=g).to(t)).sum() for t in flat).backward()  # .to(t): GPU too
        runs.append((flat, {k: p.grad for k, p in n.named_parameters() if p.grad is not None},
                     [b for b in n.buffers() if b.is_floating_point()]))
    return runs


def assert_same(runs, tol, buffer_tol=None):
    (out_r, grad_r, buf_r), (out_f, grad_f, buf_f) = runs
    assert set(grad_r) == set(grad_f)
    for a, b in zip(out_f, out_r):
        assert rel(a.detach(), b.detach()) < tol
    top = max(g.abs().max() for g in grad_r.values())
    for name, g in grad_r.items():
        if g.abs().max() > 1e-4 * top:  # not float noise around an exactly-zero gradient
            assert rel(grad_f[name], g) < tol, name
    for a, b in zip(buf_f, buf_r):  # BatchNorm statistics, spectral-norm vectors
        assert rel(a, b) < (buffer_tol or tol)


@pytest.fixture
def uniform_everywhere(monkeypatch):
    """The uniform-region form at every resolution, however many pixels are near a border."""
    monkeypatch.setattr(spade_fast, 'UNIFORM_BELOW', 1.01)


@pytest.fixture
def chunked_modulation(monkeypatch):
    """SCGAN's norms modulate chunk by chunk under autograd at every size."""
    monkeypatch.setattr(scgan_kernels, 'MODULATE_MIN_PIXELS', 0)


@pytest.mark.parametrize('name', sorted(SMALL))
@pytest.mark.parametrize('instance', [False, True])
def test_generator_fast_equals_reference_float64(name, instance, uniform_everywhere, chunked_modulation):
    net = small_generator(name, instance, F64)
    nc = net.opt.semantic_nc - (0 if net.opt.no_instance else 1)
    semantics = one_hot(blocky_labels(2, nc, 32, 8, seed=2), nc, edges=instance, dtype=F64)
    assert generator_labels(semantics, net.opt) is not None
    assert_same(run_both(net, semantics, F64), 1e-10)


@pytest.mark.parametrize('name', FLOAT32_NAMES)
def test_generator_fast_equals_reference_float32(name, chunked_modulation):
    """The 1e-5 relative bound on every gradient, in float32 (the BatchNorm statistics, which carry
    the float32 rounding of every layer above them, within 1e-4). At 64x64: the first feature map
    is 2x2, its batch norms see 8 values (at 1x1 they see 2, and float32 gradients through them
    differ by more than 1e-5 between any two summation orders, the reference's own included)."""
    net = small_generator(name, False, torch.float32, size=64)
    nc = net.opt.semantic_nc
    semantics = one_hot(blocky_labels(2, nc, 64, 4, seed=4), nc)
    assert_same(run_both(net, semantics, torch.float32), 1e-5, buffer_tol=1e-4)


@pytest.mark.parametrize('name', sorted(SMALL))
def test_soft_labels_fall_back_to_the_reference(name):
    net = small_generator(name, False, F64)
    nc = net.opt.semantic_nc
    semantics = one_hot(blocky_labels(2, nc, 32, 8, seed=2), nc, dtype=F64) * 0.9 + 0.1 / nc  # label smoothing
    assert generator_labels(semantics, net.opt) is None
    assert_same(run_both(net, semantics, F64), 1e-10)


def test_the_comparison_catches_a_wrong_fast_path(monkeypatch):
    """A tap table with its taps in the wrong order (a plausible porting mistake) fails the check."""
    net = small_generator('spade', False, F64)
    nc = net.opt.semantic_nc
    semantics = one_hot(blocky_labels(2, nc, 32, 8, seed=2), nc, dtype=F64)
    right = label_conv_module.tap_table
    monkeypatch.setattr(label_conv_module, 'tap_table', lambda w, n: right(w.transpose(2, 3), n))
    with pytest.raises(AssertionError):
        assert_same(run_both(net, semantics, F64), 1e-10)


@pytest.mark.parametrize('name', ['spade', 'scg'])
def test_eval_weight_reuse_follows_every_update(name):
    """In eval mode under no_grad the fast paths keep the spectral-normed (and SCGAN's joined
    expert) weights between calls; an optimizer step, an EMA-style in-place update or loading a
    state dict must show in the next output, exactly as the reference path computes it."""
    net = small_generator(name, False, F64).eval()
    nc = net.opt.semantic_nc
    semantics = one_hot(blocky_labels(2, nc, 32, 8, seed=2), nc, dtype=F64)
    z = torch.randn(2, net.opt.z_dim, dtype=F64) if getattr(net.opt, 'use_vae', False) else None

    def flat(out):
        parts = [t for o in (out if isinstance(out, tuple) else [out]) for t in (o if isinstance(o, list) else [o])]
        return torch.cat([t.reshape(-1) for t in parts])

    def both():
        with torch.no_grad():
            fast = flat(net(semantics, z))
            with reference_path():
                ref = flat(net(semantics, z))
        return fast, ref

    first, ref = both()
    assert rel(first, ref) < 1e-10
    assert rel(both()[0], first) == 0  # the kept weights give the same output
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    net.train()
    flat(net(semantics, z)).square().mean().backward()  # a training forward drops the kept weights
    optimizer.step()
    net.eval()
    stepped, ref = both()
    assert rel(stepped, first) > 1e-6 and rel(stepped, ref) < 1e-10
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():  # an EMA-style in-place update (not a rescaling: spectral norm ignores those)
        for p in net.parameters():
            p.lerp_(torch.randn(p.shape, generator=g, dtype=p.dtype), 0.1)
    moved, ref = both()
    assert rel(moved, stepped) > 1e-6 and rel(moved, ref) < 1e-10
    saved = copy.deepcopy(net.state_dict())
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    assert rel(both()[0], moved) > 1e-6
    net.load_state_dict(saved)
    restored, ref = both()
    assert rel(restored, moved) < 1e-12 and rel(restored, ref) < 1e-10


@pytest.fixture
def winograd_everywhere(monkeypatch):
    """Winograd for every 3x3 convolution it may replace, whatever its size (in inference and in
    training); records the tiles used."""
    import semsyn.kernels.winograd as winograd
    for gate in ('WINOGRAD_MIN_PIXELS', 'WINOGRAD_MIN_MACS', 'TRAIN_MIN_PIXELS', 'TRAIN_MIN_IN', 'TRAIN_MIN_OUT',
                 'WEIGHT_GRAD_MIN_IN'):
        monkeypatch.setattr(winograd, gate, 1)
    tiles = []
    real = winograd.winograd_conv3x3
    monkeypatch.setattr(winograd, 'winograd_conv3x3', lambda *a, **k: tiles.append(k.get('tile', 4)) or real(*a, **k))
    return tiles


@pytest.mark.parametrize('dtype, tol', [(F64, 1e-10), (torch.float32, 2e-5)])
def test_winograd_in_inference(winograd_everywhere, dtype, tol):
    """Without autograd CC-FPSE's kernel predictors (and the other large 3x3 convolutions of the fast
    paths) run as F(4x4, 3x3) Winograd; the image matches the reference path's."""
    net = small_generator('condconv', False, dtype)  # batch statistics: eval's would overflow float32 here
    nc = net.opt.semantic_nc
    semantics = one_hot(blocky_labels(2, nc, 32, 8, seed=2), nc, dtype=dtype)
    with torch.no_grad():  # copies: each training-mode call advances the spectral norms' power iteration
        fast = copy.deepcopy(net)(semantics)
        with reference_path():
            ref = copy.deepcopy(net)(semantics)
    assert winograd_everywhere.count(4) >= 2 * 7 and 2 not in winograd_everywhere  # both predictors per block
    assert rel(fast, ref) < tol


@pytest.mark.parametrize('name', FLOAT32_NAMES)
def test_winograd_in_training_keeps_gradients(winograd_everywhere, training_tile, name):
    """Under training the 3x3 convolutions that conv2d_same runs (CC-FPSE's kernel predictors: forward,
    recomputation, input gradient; the wide layers of all three: ops/conv3x3.py) run as F(2x2, 3x3)
    or, on large maps, F(3x3, 3x3), never the less accurate F(4x4): float32 gradients within 1e-5
    of the reference path's with either (here each on all maps). The label maps are ones whose ReLU
    inputs keep clear of zero: one within float32 noise of it (1e-6 of the largest) flips with
    either path's rounding and moves a whole pixel's gradient, 1e-3 .. 1e-2 of some parameters'
    (some other seeds' maps do that with F(2x2) too, or for SPADE with either tile alike)."""
    net = small_generator(name, False, torch.float32, size=64)
    nc = net.opt.semantic_nc
    semantics = one_hot(blocky_labels(2, nc, 64, 4, seed=3), nc)
    assert_same(run_both(net, semantics, torch.float32), 1e-5, buffer_tol=1e-4)
    assert set(winograd_everywhere) == {training_tile}
    assert len(winograd_everywhere) >= {'condconv': 3 * 2 * 7 + 2 * 7, 'spade': 2 * 7, 'scg': 2 * 7}[name]


@pytest.mark.parametrize('name', sorted(SMALL))
@pytest.mark.parametrize('winograd', [False, True])
def test_channels_last_gives_the_same_results(name, winograd, uniform_everywhere, request):
    """--channels_last (weights and inputs in NHWC order) runs on both paths, with the default gates
    (aten's convolutions then answer in NHWC order inside the fast paths) and with every Winograd
    kernel, and computes what the channels-first reference computes."""
    if winograd:
        request.getfixturevalue('winograd_everywhere')
    net = small_generator(name, False, F64)
    nc = net.opt.semantic_nc
    semantics = one_hot(blocky_labels(2, nc, 32, 8, seed=2), nc, dtype=F64)
    first = run_both(net, semantics, F64)[0]
    last = run_both(net.to(memory_format=torch.channels_last), semantics.contiguous(memory_format=torch.channels_last),
                    F64)
    assert_same([first, last[0]], 1e-10)  # reference path
    assert_same([first, last[1]], 1e-10)  # fast path
    with torch.no_grad():  # the no-gradient forms (kept output buffers, F(4x4) Winograd)
        torch.manual_seed(0)
        fast = copy.deepcopy(net)(semantics.contiguous(memory_format=torch.channels_last))
    image = fast[0] if isinstance(fast, tuple) else fast
    assert rel(image, first[0][0].detach()) < 1e-10
