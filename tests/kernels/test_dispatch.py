"""The dispatcher of models/dispatch.py: registered kernels run where they apply, the layer's own
forward elsewhere (reference_path, torch.compile tracing, hooks), and every registered kernel
computes its layer's values."""
import copy
import threading

import pytest
import torch

from semsyn.models import create_network
from semsyn.models.discriminators import MultiscaleDiscriminator
from semsyn.models.dispatch import current_context, forward_context, registered
from semsyn.models.ops import SPADE
from semsyn.models.ops.routing import SemanticVectorGenerator
from semsyn.models.ops.spatial_conditional import SpatialCondConv2d, SpatialCondNorm
from semsyn.options import make_options
from semsyn.paths import reference_path

from .test_fast_paths import blocky_labels, one_hot

F64 = torch.float64


def spade_case():
    torch.manual_seed(0)
    sem = one_hot(blocky_labels(2, 6, 32, 8), 6, dtype=F64)
    norm = SPADE('spadebatch3x3', 4, 6).double()
    return norm, (torch.randn(2, 4, 32, 32, dtype=F64), sem)


CASES = {SPADE: spade_case}


# -- SCGAN's layers (kernels/scgan.py, kernels/routing.py) ------------------------------------------
def expert_conv_case():
    torch.manual_seed(0)
    conv = SpatialCondConv2d(5, 4, 3).double().eval()  # eval: no power iteration between the calls
    return conv, (torch.randn(2, 5, 24, 24, dtype=F64), torch.softmax(torch.randn(2, 3, 24, 24, dtype=F64), 1))


def expert_norm_case():
    torch.manual_seed(0)
    norm = SpatialCondNorm('batch', 4, 3).double().eval()
    with torch.no_grad():
        norm.affine_params_groups.normal_()
    return norm, (torch.randn(2, 4, 16, 16, dtype=F64), torch.softmax(torch.randn(2, 3, 16, 16, dtype=F64), 1))


def routing_case():
    opt = make_options({'netG': 'scg', 'dataset_mode': 'ade20k', 'label_nc': 5, 'crop_size': 32, 'nrf': 4,
                        'gpu_ids': '-1', 'no_instance': True, 'batchSize': 2})
    assert opt.semantic_nc == 6
    torch.manual_seed(0)
    net = SemanticVectorGenerator(opt).double()
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, 0.2)
    return net.eval(), (one_hot(blocky_labels(2, 6, 32, 4), 6, dtype=F64),)


CASES.update({SpatialCondConv2d: expert_conv_case, SpatialCondNorm: expert_norm_case,
              SemanticVectorGenerator: routing_case})


# -- SPADE's multiscale discriminator (kernels/patchgan.py) -------------------------------------------
def multiscale_case():
    opt = make_options({'netD': 'multiscale', 'dataset_mode': 'ade20k', 'label_nc': 5, 'crop_size': 32,
                        'ndf': 8, 'num_D': 2, 'gpu_ids': '-1', 'no_instance': True, 'batchSize': 2})
    torch.manual_seed(0)
    net = create_network('D', opt).double().eval()
    semantics = one_hot(blocky_labels(2, opt.semantic_nc, 32, 4), opt.semantic_nc, dtype=F64)
    return net, (semantics, torch.randn(4, 3, 32, 32, dtype=F64))


CASES[MultiscaleDiscriminator] = multiscale_case


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


@pytest.mark.parametrize('layer_class', [SpatialCondConv2d, SpatialCondNorm, SemanticVectorGenerator],
                         ids=lambda c: c.__name__)
def test_scgan_kernels_give_the_forwards_gradients(layer_class):
    """The kernel ran (the forward is not reached) and gives the forward's values and the gradients
    of the inputs (where they take one) and of every parameter; power iterations leave the same
    spectral-norm vectors."""
    layer, args = CASES[layer_class]()
    inputs = [a.clone().requires_grad_(a is not args[-1] or layer_class is not SemanticVectorGenerator)
              for a in args]
    runs = []
    for reference in (True, False):
        net = copy.deepcopy(layer).train()
        xs = [a.detach().clone().requires_grad_(a.requires_grad) for a in inputs]
        reached = []
        net.forward = lambda *a, net=net, reached=reached: reached.append(1) or type(net).forward(net, *a)
        with reference_path(reference), forward_context(xs[-1], 6):
            out = _flat(net(*xs))
        assert bool(reached) == reference
        g = torch.Generator().manual_seed(1)
        sum((t * torch.randn(t.shape, generator=g, dtype=t.dtype)).sum() for t in out).backward()
        runs.append((out, [x.grad for x in xs], [p.grad for p in net.parameters()], list(net.buffers())))
    for fast, ref in zip(runs[1], runs[0]):
        for a, b in zip(fast, ref):
            if b is None:
                assert a is None
            else:
                torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_every_registered_kernel_has_a_case():
    assert set(registered()) <= set(CASES)


@pytest.mark.parametrize('layer_class', sorted(registered(), key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_kernel_equals_the_layers_forward(layer_class):
    layer, args = CASES[layer_class]()
    applies, run = registered()[layer_class][0]
    with forward_context(args[-1], 6):
        assert applies(layer, current_context(), *args)
        fast = run(layer, current_context(), *args)
        with reference_path():
            ref = layer(*args)
            # the layer's own forward is what runs there (its sublayers may dispatch elsewhere)
            torch.testing.assert_close(layer.forward(*args), ref, rtol=0, atol=0)
    # float64 rounding, grown through a network's layers (SCGAN's routing decoder: values ~1e5)
    torch.testing.assert_close(fast, ref, rtol=1e-10, atol=1e-12)


def test_dispatch_runs_the_kernel_and_steps_aside():
    layer, args = spade_case()
    ran = []
    hook = layer.register_forward_hook(lambda *a: ran.append('forward'))
    layer(*args)
    assert ran == ['forward']  # a layer with hooks runs its forward
    hook.remove()
    layer(*args)
    assert ran == ['forward']  # else the kernel ran (the forward's hook is not reached)


def test_context_is_per_thread_and_restored():
    seen = []
    with forward_context('outer', 1):
        thread = threading.Thread(target=lambda: seen.append(current_context()))
        thread.start()
        thread.join()
        with forward_context('inner', 1):
            assert current_context().semantics == 'inner'
        assert current_context().semantics == 'outer'
    assert seen == [None] and current_context() is None


def test_compiled_reference_path_matches():
    layer, args = spade_case()
    with reference_path():
        ref = layer(*args)
    compiled = torch.compile(layer, backend='eager')
    torch.testing.assert_close(compiled(*args), ref, rtol=1e-11, atol=1e-12)


# -- CC-FPSE's generator and discriminator, the latent input (kernels/ccfpse.py, fpse.py, resize.py) --
# Each case: (layer, args, the forward context's input, the args that take a gradient); its layer
# in eval mode for the generic test above, which calls it twice (spectral norm's power iteration
# and batch statistics would differ in training mode); the test below runs both modes on copies.

from types import SimpleNamespace  # noqa: E402

import torch.nn as nn  # noqa: E402

from semsyn.models import options_from  # noqa: E402
from semsyn.models.discriminators.fpse import FPSEDiscriminator  # noqa: E402
from semsyn.models.generators.ccfpse import DepthConv, DepthsepCCBlock, LabelEncoding  # noqa: E402
from semsyn.models.ops import get_nonspade_norm_layer  # noqa: E402
from semsyn.models.ops.latent import LatentConv2d  # noqa: E402
from semsyn.models.ops.spectral import SpectralNormWeight, spectral_norm  # noqa: E402
from semsyn.norm_spec import parse_norm  # noqa: E402


def _labels(n, size, block=4, seed=1, edges=False):
    return one_hot(blocky_labels(n, 6, size, block, seed=seed), 6, edges=edges, dtype=F64)


def block_case(fin=8, fout=4, size=16, edges=False):
    torch.manual_seed(1)
    sem = _labels(2, 32, edges=edges)
    norm = 'spectralspadesyncbatch3x3'
    opt = SimpleNamespace(norm_G=norm, norm_G_spec=parse_norm(norm, 'norm_G'))
    block = DepthsepCCBlock(fin, fout, opt, sem.shape[1] + 4)
    args = (torch.randn(2, fin, size, size, dtype=F64), sem, torch.randn(2, 4, size, size, dtype=F64))
    return block.double(), args, sem, (0, 2)


def depth_conv_case():
    torch.manual_seed(2)
    args = (torch.randn(2, 3, 5, 7, dtype=F64), torch.randn(2, 27, 5, 7, dtype=F64))
    return DepthConv(3).double(), args, None, (0, 1)


def label_encoding_case(edges=True):
    torch.manual_seed(3)
    sem = _labels(2, 16, block=2, edges=edges)
    level = LabelEncoding(get_nonspade_norm_layer('spectralinstance')(nn.Conv2d(sem.shape[1], 5, 3, padding=1)),
                          nn.LeakyReLU(0.2, True))
    return level.double(), (sem,), sem, ()


def fpse_case(shared=True):
    opt = options_from({'gpu_ids': '-1', 'dataset_mode': 'synthetic', 'label_nc': 6, 'crop_size': 64,
                        'batchSize': 2, 'load_size': 64, 'ndf': 4, 'netD': 'fpse', 'no_instance': True})
    torch.manual_seed(4)
    net = create_network('D', opt).double()
    sem = _labels(2, 64, block=2)
    segmap = torch.cat([sem, sem]) if shared else _labels(4, 64, block=2, seed=9)
    return net, (torch.randn(4, 3, 64, 64, dtype=F64), segmap), segmap, (0,)


def latent_case():
    torch.manual_seed(5)
    sem = _labels(2, 32)
    return LatentConv2d(6, 4, 4, 2).double(), (sem,), sem, ()


def spectral_case(shape=(5, 4, 3, 3)):
    torch.manual_seed(6)
    conv = spectral_norm(nn.Conv2d(shape[1], shape[0], shape[2:])).double()
    hook = next(h for h in conv._forward_pre_hooks.values() if hasattr(h, 'weight'))
    return hook.weight, (conv,), None, ()


CCFPSE_CASES = {DepthsepCCBlock: block_case, DepthConv: depth_conv_case, LabelEncoding: label_encoding_case,
                FPSEDiscriminator: fpse_case, LatentConv2d: latent_case, SpectralNormWeight: spectral_case}


def _eval_case(make):
    def case():
        layer, args, _, _ = make()
        for a in args:
            if isinstance(a, nn.Module):
                a.eval()
        return layer.eval(), args
    return case


CASES.update({cls: _eval_case(make) for cls, make in CCFPSE_CASES.items()})

VARIANTS = [(block_case, {}), (block_case, {'fin': 4, 'fout': 4, 'edges': True}),
            (block_case, {'fin': 4, 'fout': 2, 'size': 64}),  # Winograd kernels: recomputed in backward
            (depth_conv_case, {}), (label_encoding_case, {}), (label_encoding_case, {'edges': False}),
            (fpse_case, {}), (fpse_case, {'shared': False}), (latent_case, {}),
            (spectral_case, {}), (spectral_case, {'shape': (16, 3, 1, 1)})]


def _values_and_gradients(layer, args, grad_args, call):
    args = [a.detach().requires_grad_(i in grad_args) if isinstance(a, torch.Tensor) else a
            for i, a in enumerate(args)]
    out = call(layer, args)
    flat = out if isinstance(out, torch.Tensor) else [t for part in out for t in
                                                     (part if isinstance(part, list) else [part])]
    flat = [flat] if isinstance(flat, torch.Tensor) else flat
    g = torch.Generator().manual_seed(7)
    sum((o * torch.randn(o.shape, generator=g, dtype=o.dtype)).sum() for o in flat).backward()
    params = [p for m in [layer] + [a for a in args if isinstance(a, nn.Module)] for p in m.parameters()]
    grads = [args[i].grad for i in grad_args] + [p.grad for p in params if p.requires_grad]
    return [o.detach() for o in flat], grads


@pytest.mark.parametrize('training', [True, False], ids=['train', 'eval'])
@pytest.mark.parametrize('make,kwargs', VARIANTS, ids=lambda v: v.__name__ if callable(v) else str(v))
def test_ccfpse_kernels_values_and_gradients(make, kwargs, training):
    """Every registered CC-FPSE kernel, in the forward context its network opens: its layer's values
    and the gradients of its inputs and parameters (float64)."""
    layer, args, semantics, grad_args = make(**kwargs)
    for m in [layer] + [a for a in args if isinstance(a, nn.Module)]:
        m.train(training)
    applies, run = registered()[type(layer)][0]
    (ref_layer, ref_args), (fast_layer, fast_args) = copy.deepcopy((layer, args)), copy.deepcopy((layer, args))

    at = next((i for i, a in enumerate(args) if a is semantics), None)

    def fast_call(net, a):
        with forward_context(None if at is None else a[at], 6):
            assert applies(net, current_context(), *a)
            return run(net, current_context(), *a)

    def ref_call(net, a):
        with reference_path():
            return net(*a)

    fast, fast_grads = _values_and_gradients(fast_layer, fast_args, grad_args, fast_call)
    ref, ref_grads = _values_and_gradients(ref_layer, ref_args, grad_args, ref_call)
    assert len(fast) == len(ref) and len(fast_grads) == len(ref_grads)
    for a, b in zip(fast + fast_grads, ref + ref_grads):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10)
