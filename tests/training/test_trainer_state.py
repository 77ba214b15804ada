"""The training state keeps what an exact resume needs: with beta1 = 0 (TTUR's default) Adam's first
moment is the last gradient, overwritten unread by the next step, so it is left out of the file. The
fast paths' fused Adam resumes as exactly, and updates as the originals' default Adam does."""
import pytest
import torch

from semsyn.paths import reference_path
from semsyn.training.trainer import adam, load_optimizer_state, optimizer_state


def run(params, optimizer, grads):
    for g in grads:
        for p in params:
            p.grad = g.clone()
        optimizer.step()


@pytest.mark.parametrize('reference', [False, True], ids=['fused', 'default'])
@pytest.mark.parametrize('beta1', [0.0, 0.5])
def test_optimizer_state_resumes_exactly(beta1, reference):
    torch.manual_seed(0)
    grads = [torch.randn(300) * 10 ** k for k in range(6)]
    straight = torch.nn.Parameter(torch.randn(300))
    start = straight.detach().clone()
    settings = {'lr': 1e-3, 'betas': (beta1, 0.9)}
    with reference_path(reference):
        opt = adam([straight], settings)
        assert opt.param_groups[0]['fused'] is (True if not reference else None)
        run([straight], opt, grads)

        first = torch.nn.Parameter(start.clone())
        opt1 = adam([first], settings)
        run([first], opt1, grads[:3])
        saved = optimizer_state(opt1)
        assert ('exp_avg' in saved['state'][0]) == (beta1 != 0)
        resumed = torch.nn.Parameter(first.detach().clone())
        opt2 = adam([resumed], settings)
        load_optimizer_state(opt2, saved)
        run([resumed], opt2, grads[3:])
    assert torch.equal(resumed, straight)


@pytest.mark.parametrize('beta1', [0.0, 0.5])
def test_fused_adam_updates_as_the_default(beta1):
    """Six steps over gradients from 1 to 1e5 in scale: the fused kernel's parameters stay within float
    rounding of the default implementation's, which moved them by about 6 x lr."""
    torch.manual_seed(0)
    grads = [torch.randn(1000) * 10 ** k for k in range(6)]
    start = torch.randn(1000)
    params = {}
    for reference in (False, True):
        params[reference] = torch.nn.Parameter(start.clone())
        with reference_path(reference):
            run([params[reference]], adam([params[reference]], {'lr': 1e-3, 'betas': (beta1, 0.9)}), grads)
    moved = (params[True] - start).abs().max().item()
    assert moved > 1e-3
    torch.testing.assert_close(params[False], params[True], rtol=0, atol=1e-6)
