"""The dispatcher of models/dispatch.py: registered kernels run where they apply, the layer's own
forward elsewhere (reference_path, torch.compile tracing, hooks), and every registered kernel
computes its layer's values."""
import threading

import pytest
import torch

from semsyn.models.dispatch import current_context, forward_context, registered
from semsyn.models.ops import SPADE, reference_path

from .test_fast_paths import blocky_labels, one_hot

F64 = torch.float64


def spade_case():
    torch.manual_seed(0)
    sem = one_hot(blocky_labels(2, 6, 32, 8), 6, dtype=F64)
    norm = SPADE('spadebatch3x3', 4, 6).double()
    return norm, (torch.randn(2, 4, 32, 32, dtype=F64), sem)


CASES = {SPADE: spade_case}


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
