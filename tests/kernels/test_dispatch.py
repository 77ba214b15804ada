"""The dispatcher of models/dispatch.py: registered kernels run where they apply, the layer's own
forward elsewhere (reference_path, torch.compile tracing, hooks), and every registered kernel
computes its layer's values."""
import copy
import threading

import pytest
import torch

from semsyn.models.dispatch import current_context, forward_context, registered
from semsyn.models.ops import SPADE, reference_path
from semsyn.models.ops.routing import SemanticVectorGenerator
from semsyn.models.ops.spatial_conditional import SpatialCondConv2d, SpatialCondNorm
from semsyn.options import make_options

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
    torch.testing.assert_close(fast, ref, rtol=1e-11, atol=1e-12)
    torch.testing.assert_close(layer.forward(*args), ref, rtol=0, atol=0)


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
